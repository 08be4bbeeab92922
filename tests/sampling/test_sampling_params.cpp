#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ovllm/sampling_params.hpp"
#include "sampling/sampler.hpp"
#include "util/error.hpp"

namespace {

using ovllm::SamplingParams;

std::string error_of(const std::function<void(SamplingParams&)>& edit) {
    SamplingParams params;
    edit(params);
    try {
        params.validate();
    } catch (const ovllm::Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(SamplingParamsValidate, DefaultsAreValid) {
    EXPECT_NO_THROW(SamplingParams{}.validate());
    SamplingParams edge;
    edge.top_k = -1;
    edge.top_p = 1.0f;
    edge.min_p = 1.0f;
    edge.temperature = 0.0f;
    edge.max_tokens.reset();
    edge.min_tokens = 5;
    edge.logprobs = 0;
    EXPECT_NO_THROW(edge.validate());
}

TEST(SamplingParamsValidate, NamesEachBadField) {
    EXPECT_EQ(error_of([](auto& p) { p.n = 0; }), "n must be at least 1, got 0");
    EXPECT_EQ(error_of([](auto& p) { p.temperature = -1.0f; }),
              "temperature must be non-negative, got -1.0");
    EXPECT_EQ(error_of([](auto& p) { p.top_p = 1.5f; }), "top_p must be in (0, 1], got 1.5");
    EXPECT_EQ(error_of([](auto& p) { p.top_p = 0.0f; }), "top_p must be in (0, 1], got 0.0");
    EXPECT_EQ(error_of([](auto& p) { p.top_k = -2; }),
              "top_k must be 0 (disable), or at least 1, got -2");
    EXPECT_EQ(error_of([](auto& p) { p.min_p = 1.25f; }), "min_p must be in [0, 1], got 1.25");
    EXPECT_EQ(error_of([](auto& p) { p.min_p = -0.5f; }), "min_p must be in [0, 1], got -0.5");
    EXPECT_EQ(error_of([](auto& p) { p.max_tokens = 0; }), "max_tokens must be at least 1, got 0");
    EXPECT_EQ(error_of([](auto& p) { p.min_tokens = -1; }),
              "min_tokens must be greater than or equal to 0, got -1");
    EXPECT_EQ(error_of([](auto& p) { p.min_tokens = 17; }),
              "min_tokens must be less than or equal to max_tokens=16, got 17");
    EXPECT_EQ(error_of([](auto& p) { p.logprobs = -1; }), "logprobs must be non-negative, got -1");
    EXPECT_EQ(error_of([](auto& p) { p.prompt_logprobs = -3; }),
              "prompt_logprobs must be non-negative, got -3");
    EXPECT_EQ(error_of([](auto& p) { p.presence_penalty = 2.5f; }),
              "presence_penalty must be in [-2, 2], got 2.5");
    EXPECT_EQ(error_of([](auto& p) { p.frequency_penalty = -3.0f; }),
              "frequency_penalty must be in [-2, 2], got -3.0");
    EXPECT_EQ(error_of([](auto& p) { p.repetition_penalty = 0.0f; }),
              "repetition_penalty must be greater than zero, got 0.0");
    EXPECT_EQ(error_of([](auto& p) {
                  p.stop = {"ok", ""};
              }),
              "stop cannot contain an empty string");
    EXPECT_EQ(error_of([](auto& p) {
                  p.stop_token_ids = {3, -4};
              }),
              "stop_token_ids must be non-negative, got -4");
    EXPECT_EQ(error_of([](auto& p) { p.allowed_token_ids = std::vector<int64_t>{}; }),
              "allowed_token_ids must not be empty when given");
    EXPECT_EQ(error_of([](auto& p) {
                  p.logit_bias = {{-1, 1.0f}};
              }),
              "logit_bias token id must be non-negative, got -1");
}

TEST(SamplingParamsValidate, RejectsNotANumber) {
    EXPECT_EQ(error_of([](auto& p) { p.temperature = std::nanf(""); }),
              "temperature must be non-negative, got nan");
    EXPECT_EQ(error_of([](auto& p) { p.top_p = std::nanf(""); }),
              "top_p must be in (0, 1], got nan");
}

TEST(SamplingParamsValidate, ChecksTokenIdsAgainstTheVocabulary) {
    SamplingParams params;
    params.stop_token_ids = {10};
    EXPECT_NO_THROW(ovllm::sampling::validate_for_vocab(params, 11));
    try {
        ovllm::sampling::validate_for_vocab(params, 10);
        FAIL() << "accepted an id outside the vocabulary";
    } catch (const ovllm::Error& e) {
        EXPECT_STREQ(e.what(), "stop_token_ids has token id 10 outside the vocabulary (size 10)");
    }
    SamplingParams allowed;
    allowed.allowed_token_ids = std::vector<int64_t>{1, 50};
    EXPECT_THROW(ovllm::sampling::validate_for_vocab(allowed, 50), ovllm::Error);
    SamplingParams bias;
    bias.logit_bias = {{7, 1.0f}};
    EXPECT_THROW(ovllm::sampling::validate_for_vocab(bias, 7), ovllm::Error);
}

}  // namespace
