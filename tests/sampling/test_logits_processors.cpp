#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "sampling/logits_processors.hpp"

namespace {

using namespace ovllm::sampling;
using ovllm::SamplingParams;
using Ids = std::vector<int64_t>;
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(LogitsProcessors, LogitBiasAddsAndIgnoresOutOfVocab) {
    std::vector<float> row{1.0f, 2.0f, 3.0f};
    apply_logit_bias(row, {{0, 0.5f}, {2, -1.0f}, {7, 9.0f}});
    EXPECT_EQ(row, (std::vector<float>{1.5f, 2.0f, 2.0f}));
}

TEST(LogitsProcessors, AllowedTokenIdsMaskEverythingElse) {
    ProcessorScratch scratch;
    std::vector<float> row{1.0f, 2.0f, 3.0f, 4.0f};
    const Ids allowed{3, 1, 99};
    apply_allowed_token_ids(row, allowed, scratch);
    EXPECT_EQ(row, (std::vector<float>{-kInf, 2.0f, -kInf, 4.0f}));
}

TEST(LogitsProcessors, BadWordsBanTheLastTokenAfterTheirPrefix) {
    const std::vector<Ids> words{{5}, {1, 2}, {3, 4, 6}, {9, 9, 9, 9, 7}};
    std::vector<float> row(10, 1.0f);
    const Ids output{0, 3, 4};
    apply_bad_words(row, words, output);
    std::vector<float> expected(10, 1.0f);
    expected[5] = -kInf;  // one-token bad word: always
    expected[6] = -kInf;  // output ends with 3, 4
    EXPECT_EQ(row, expected);

    std::vector<float> fresh(10, 1.0f);
    apply_bad_words(fresh, words, Ids{1});
    expected.assign(10, 1.0f);
    expected[5] = -kInf;
    expected[2] = -kInf;  // output ends with 1
    EXPECT_EQ(fresh, expected);

    std::vector<float> empty_output(10, 1.0f);
    apply_bad_words(empty_output, words, Ids{});
    expected.assign(10, 1.0f);
    expected[5] = -kInf;
    EXPECT_EQ(empty_output, expected);
}

TEST(LogitsProcessors, MinTokensMasksEosAndStopIdsUntilReached) {
    SamplingParams params;
    params.min_tokens = 2;
    params.stop_token_ids = {4};
    const Ids eos{5};
    std::vector<float> row(6, 0.5f);
    apply_min_tokens(row, params, 1, eos);
    EXPECT_EQ(row, (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f, -kInf, -kInf}));

    std::vector<float> reached(6, 0.5f);
    apply_min_tokens(reached, params, 2, eos);
    EXPECT_EQ(reached, std::vector<float>(6, 0.5f));

    params.ignore_eos = true;
    std::vector<float> ignoring(6, 0.5f);
    apply_min_tokens(ignoring, params, 0, eos);
    EXPECT_EQ(ignoring, (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f, -kInf, 0.5f}));
}

TEST(LogitsProcessors, RepetitionPenaltyDividesPositiveMultipliesOthersOncePerToken) {
    ProcessorScratch scratch;
    SamplingParams params;
    params.repetition_penalty = 2.0f;
    std::vector<float> row{2.0f, -1.0f, 0.5f, 3.0f, 0.0f};
    const Ids prompt{0, 1, 1};
    const Ids output{4, 0};
    apply_penalties(row, params, prompt, output, scratch);
    EXPECT_EQ(row, (std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f, 0.0f}));
    // The scratch is left clean: a second call penalises again from the same state.
    apply_penalties(row, params, prompt, output, scratch);
    EXPECT_EQ(row, (std::vector<float>{0.5f, -4.0f, 0.5f, 3.0f, 0.0f}));
    EXPECT_TRUE(
        std::all_of(scratch.marks.begin(), scratch.marks.end(), [](auto m) { return m == 0; }));
}

TEST(LogitsProcessors, FrequencyAndPresenceCountOutputTokensOnly) {
    ProcessorScratch scratch;
    SamplingParams params;
    params.frequency_penalty = 0.5f;
    params.presence_penalty = 0.25f;
    std::vector<float> row{1.0f, 1.0f, 1.0f, 1.0f};
    const Ids prompt{3, 3};
    const Ids output{2, 2, 2, 0};
    apply_penalties(row, params, prompt, output, scratch);
    EXPECT_EQ(row, (std::vector<float>{0.25f, 1.0f, -0.75f, 1.0f}));
    EXPECT_TRUE(
        std::all_of(scratch.counts.begin(), scratch.counts.end(), [](auto c) { return c == 0; }));
}

TEST(LogitsProcessors, NegativeFrequencyAndPresenceRaise) {
    ProcessorScratch scratch;
    SamplingParams params;
    params.frequency_penalty = -1.0f;
    params.presence_penalty = -0.5f;
    std::vector<float> row{0.0f, 0.0f};
    apply_penalties(row, params, Ids{}, Ids{1, 1}, scratch);
    EXPECT_EQ(row, (std::vector<float>{0.0f, 2.5f}));
}

TEST(LogitsProcessors, RepetitionRunsBeforeFrequencyAndPresence) {
    ProcessorScratch scratch;
    SamplingParams params;
    params.repetition_penalty = 2.0f;
    params.frequency_penalty = 1.0f;
    params.presence_penalty = 0.5f;
    std::vector<float> row{4.0f, -2.0f};
    apply_penalties(row, params, Ids{1}, Ids{0}, scratch);
    // token 0: 4 / 2 - 1 * 1 - 0.5; token 1 (prompt only): -2 * 2
    EXPECT_EQ(row, (std::vector<float>{0.5f, -4.0f}));
}

}  // namespace
