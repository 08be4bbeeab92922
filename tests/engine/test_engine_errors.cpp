// Bad requests and configs get one precise error each, and leave the engine usable.
#include <gtest/gtest.h>

#include "engine_fixture.hpp"
#include "util/error.hpp"

namespace ovllm::test {
namespace {

// Runs `body`, expects an ovllm::Error whose message contains `needle`.
template <typename Body>
void expect_error(Body&& body, const std::string& needle) {
    try {
        body();
        ADD_FAILURE() << "no error; expected one containing: " << needle;
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

class EngineErrors : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        EngineConfig config = exact_config();
        config.max_model_len = 128;
        engine_ = std::make_unique<engine::LLMEngine>(config);
    }
    static void TearDownTestSuite() { engine_.reset(); }
    static std::unique_ptr<engine::LLMEngine> engine_;
};
std::unique_ptr<engine::LLMEngine> EngineErrors::engine_;

TEST_F(EngineErrors, PromptLongerThanMaxModelLen) {
    std::vector<int64_t> ids(200, 42);
    expect_error(
        [&] {
            engine_->add_request("long", {{}, ids}, greedy(4));
        },
        "the prompt is 200 tokens long, but the maximum model length is 128");
}

TEST_F(EngineErrors, MaxTokensThatCannotFit) {
    std::vector<int64_t> ids(100, 42);
    expect_error(
        [&] {
            engine_->add_request("fit", {{}, ids}, greedy(40));
        },
        "lower max_tokens to at most 28");
}

TEST_F(EngineErrors, EmptyPrompt) {
    expect_error(
        [&] {
            engine_->add_request("empty", {"", {}}, greedy(4));
        },
        "the prompt is empty");
}

TEST_F(EngineErrors, BadSamplingParams) {
    SamplingParams n0 = greedy(4);
    n0.n = 0;
    expect_error([&] { engine_->add_request("n", {"hi", {}}, n0); }, "n must be at least 1");
    SamplingParams temp = greedy(4);
    temp.temperature = -1.0f;
    expect_error([&] { engine_->add_request("t", {"hi", {}}, temp); }, "temperature");
    SamplingParams top_p = greedy(4);
    top_p.top_p = 1.5f;
    expect_error([&] { engine_->add_request("p", {"hi", {}}, top_p); }, "top_p");
    SamplingParams top_k = greedy(4);
    top_k.top_k = -2;
    expect_error([&] { engine_->add_request("k", {"hi", {}}, top_k); }, "top_k");
    EXPECT_FALSE(engine_->has_unfinished_requests()) << "a rejected request leaves nothing behind";
}

TEST_F(EngineErrors, DuplicateRequestId) {
    engine_->add_request("dup", {"hello", {}}, greedy(2));
    expect_error([&] { engine_->add_request("dup", {"hello", {}}, greedy(2)); }, "already in use");
    while (engine_->has_unfinished_requests()) engine_->step();
    expect_all_blocks_free(*engine_);
}

TEST(EngineConfigErrors, KvSpaceTooSmallForOneMaxLengthSequence) {
    EngineConfig config = exact_config(0.01);
    config.max_model_len = 8192;
    expect_error([&] { engine::LLMEngine engine(config); },
                 "one sequence of max_model_len 8192 needs 256 blocks");
}

TEST(EngineConfigErrors, BlockSizeOtherThanThePluginsIsRefused) {
    // The CLI forces 32 with vLLM's warning; an API caller asking for 16 hears why not.
    EngineConfig config = exact_config();
    config.block_size = 16;
    expect_error([&] { engine::LLMEngine engine(config); },
                 "block_size 16: the OpenVINO CPU plugin's KV cache uses blocks of 32 tokens");
}

}  // namespace
}  // namespace ovllm::test
