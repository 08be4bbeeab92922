// SamplingParams::prompt_logprobs through the engine on every tiny golden model, exact f32
// mode, against transformers: log_softmax of the golden logits (../shared/golden/models/<name>
// logits.p<i>, every prompt position), computed here in double. The prompt is prefilled in
// chunks next to a request that asks for nothing, with prefix caching on and the prompt
// already cached, so the test also shows that the cache is skipped for such a request and
// that the other request's greedy output is transformers' own.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/llm_engine.hpp"
#include "runner/golden_util.hpp"

namespace ovllm::test {
namespace {

// The golden README's f32 threshold: the engine's logits are within 1e-4 of transformers'.
constexpr double kLogitTolerance = 1e-4;
// log_softmax(x)_i = x_i - logsumexp(x), and logsumexp moves by at most max_j |dx_j|, so a
// logit error e gives a logprob error of at most 2e; 1e-5 more covers the f32 rounding of the
// engine's own normalizer (sums of 512 exponentials, relative error ~ 512 * 2^-24).
constexpr double kLogprobTolerance = 2 * kLogitTolerance + 1e-5;
constexpr int kTopN = 5;

// Row p of the golden logits as log-probabilities, in double.
std::vector<double> log_softmax(const float* logits, size_t vocab) {
    const double max = *std::max_element(logits, logits + vocab);
    double sum = 0.0;
    for (size_t i = 0; i < vocab; ++i) sum += std::exp(double(logits[i]) - max);
    const double normalizer = max + std::log(sum);
    std::vector<double> out(vocab);
    for (size_t i = 0; i < vocab; ++i) out[i] = double(logits[i]) - normalizer;
    return out;
}

EngineConfig golden_engine_config(const Golden& golden) {
    EngineConfig config;
    config.model = golden.folder.string();
    config.dtype = "f32";
    config.kv_cache_dtype = "f32";
    config.kv_cache_space_gb = 0.01;
    config.max_model_len = 128;
    config.max_num_batched_tokens = 24;  // the 70-token prompt takes three or more steps
    config.enable_prefix_caching = true;
    return config;
}

std::map<std::string, RequestOutput> run_all(engine::LLMEngine& engine) {
    std::map<std::string, RequestOutput> outputs;
    while (engine.has_unfinished_requests()) {
        for (RequestOutput& out : engine.step()) {
            const std::string id = out.request_id;
            engine::accumulate(outputs[id], std::move(out));
        }
    }
    return outputs;
}

SamplingParams greedy_params(int max_tokens) {
    SamplingParams params;
    params.temperature = 0.0f;
    params.max_tokens = max_tokens;
    params.ignore_eos = true;
    return params;
}

// Checks one prompt position's entry against transformers' log-probabilities `ref`.
void expect_position(const PositionLogprobs& entry, int64_t target, const std::vector<double>& ref,
                     const std::string& where) {
    EXPECT_EQ(entry.chosen.token_id, target) << where;
    EXPECT_NEAR(entry.chosen.logprob, ref[size_t(target)], kLogprobTolerance) << where;
    // The rank counts tokens at least as likely; where no other token lies within twice the
    // tolerance, it is exact.
    const double own = ref[size_t(target)];
    int rank = 0;
    bool near_tie = false;
    for (size_t i = 0; i < ref.size(); ++i) {
        rank += ref[i] >= own ? 1 : 0;
        near_tie =
            near_tie || (i != size_t(target) && std::abs(ref[i] - own) < 2 * kLogprobTolerance);
    }
    if (!near_tie) {
        EXPECT_EQ(entry.chosen.rank, rank) << where;
    }
    ASSERT_EQ(entry.top.size(), size_t(kTopN)) << where;
    std::vector<double> sorted = ref;
    std::sort(sorted.rbegin(), sorted.rend());
    for (size_t k = 0; k < entry.top.size(); ++k) {
        const TokenLogprob& top = entry.top[k];
        EXPECT_EQ(top.rank, int(k + 1)) << where;
        EXPECT_NEAR(top.logprob, ref[size_t(top.token_id)], kLogprobTolerance) << where;
        // The k-th entry is the k-th most likely token, up to ties within the tolerance.
        EXPECT_NEAR(ref[size_t(top.token_id)], sorted[k], 2 * kLogprobTolerance) << where;
    }
}

class PromptLogprobsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PromptLogprobsTest, MatchTransformersAtEveryPromptPosition) {
    const Golden golden(GetParam());
    engine::LLMEngine engine(golden_engine_config(golden));
    const GoldenPrompt& longest = golden.prompts[3];  // 70 tokens, three blocks
    const GoldenPrompt& other = golden.prompts[2];    // 33 tokens
    // Fill the prefix cache with the long prompt first.
    engine.add_request("warm", {{}, longest.ids}, greedy_params(1));
    run_all(engine);

    SamplingParams asked = greedy_params(3);
    asked.prompt_logprobs = kTopN;
    engine.add_request("asked", {{}, longest.ids}, asked);
    engine.add_request("plain", {{}, other.ids}, greedy_params(24));
    engine.add_request("cached", {{}, longest.ids}, greedy_params(2));
    auto outputs = run_all(engine);

    const RequestOutput& out = outputs.at("asked");
    EXPECT_EQ(out.metrics.num_cached_tokens, 0) << "prompt logprobs skip the prefix cache";
    EXPECT_GT(outputs.at("cached").metrics.num_cached_tokens, 0) << "the prompt was cached";
    const size_t vocab = static_cast<size_t>(engine.model_config().vocab_size);
    ASSERT_EQ(out.prompt_logprobs.size(), longest.ids.size() - 1);
    for (size_t p = 0; p + 1 < longest.ids.size(); ++p) {
        expect_position(out.prompt_logprobs[p], longest.ids[p + 1],
                        log_softmax(golden.row(longest.logits_tensor, p), vocab),
                        longest.name + " position " + std::to_string(p));
    }
    // Generation is unchanged, for the asking request and the one next to it.
    EXPECT_EQ(out.outputs.at(0).token_ids,
              std::vector<int64_t>(longest.greedy.begin(), longest.greedy.begin() + 3));
    EXPECT_EQ(outputs.at("plain").outputs.at(0).token_ids, other.greedy);
    EXPECT_TRUE(outputs.at("plain").prompt_logprobs.empty());

    // A one-token prompt has no position to score.
    engine.add_request("one", {{}, golden.prompts[0].ids}, asked);
    EXPECT_TRUE(run_all(engine).at("one").prompt_logprobs.empty());
}

INSTANTIATE_TEST_SUITE_P(TinyModels, PromptLogprobsTest, ::testing::ValuesIn(tiny_golden_models()),
                         GoldenModelParamName());

}  // namespace
}  // namespace ovllm::test
