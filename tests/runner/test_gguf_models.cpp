// GGUF files against the HF folders converted from them (../shared/models: each folder is
// the GGUF dequantized to f32 and rounded to bf16). Same prompt, f32 compute and f32 KV:
// the logits differ only by that bf16 rounding of the weights, and the greedy ids agree.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden_util.hpp"
#include "model/loader.hpp"
#include "runner/model_runner.hpp"

namespace ovllm::test {
namespace {

constexpr size_t kSteps = 16;
// "The capital of France is" in the SmolLM2 / Qwen2.5 vocabularies.
const std::vector<int64_t> kSmolPrompt = {504, 3575, 282, 4649, 314};
const std::vector<int64_t> kQwenPrompt = {785, 6722, 315, 9625, 374};
const std::vector<int64_t> kGemmaPrompt = {2, 818, 5279, 529, 7001, 563};  // with <bos>

struct Trace {
    std::vector<std::vector<float>> logits;  // [step][vocab]: prefill's last row, then decodes
    std::vector<int64_t> greedy;
};

Trace greedy_trace(const std::string& model, const std::vector<int64_t>& prompt) {
    const model::LoadedModel loaded = model::load_model(model);
    runner::ModelRunner runner(loaded.model, exact_options(8));
    runner::SequenceInput seq;
    seq.token_ids = prompt;
    seq.block_table = block_range(0, blocks_for(prompt.size() + kSteps, runner.block_size()));
    Trace trace;
    for (size_t step = 0; step < kSteps; ++step) {
        const runner::LogitsView logits = runner.run({{seq}});
        trace.logits.emplace_back(logits.row(0), logits.row(0) + logits.vocab);
        trace.greedy.push_back(argmax(logits.row(0), logits.vocab));
        seq.past_len += static_cast<int64_t>(seq.token_ids.size());
        seq.token_ids = {trace.greedy.back()};
    }
    return trace;
}

void compare(const std::string& name, const std::vector<int64_t>& prompt, double tolerance) {
    const auto gguf = models_dir() / (name + ".gguf");
    const auto folder = models_dir() / name;
    if (!std::filesystem::exists(gguf) || !std::filesystem::exists(folder / "config.json")) {
        GTEST_SKIP() << gguf << " or " << folder << " not present";
    }
    const Trace from_gguf = greedy_trace(gguf.string(), prompt);
    const Trace from_folder = greedy_trace(folder.string(), prompt);
    EXPECT_EQ(from_gguf.greedy, from_folder.greedy);
    double worst = 0.0;
    for (size_t step = 0; step < kSteps; ++step) {
        const auto& a = from_gguf.logits[step];
        ASSERT_EQ(a.size(), from_folder.logits[step].size());
        worst = std::max(worst, max_abs_diff(a.data(), from_folder.logits[step].data(), a.size()));
    }
    std::printf("%s: max |logits(GGUF) - logits(bf16 folder)| over %zu steps = %.4g\n",
                name.c_str(), kSteps, worst);
    EXPECT_LT(worst, tolerance);
}

// Measured max |diff| over the 16 steps: smollm2 0.218, qwen2.5-coder-0.5b 0.092,
// gemma3-270m 0.098 (the folders' bf16 rounding of the dequantized weights; logits reach
// ~20). Greedy ids equal.
constexpr double kBf16RoundingTolerance = 0.5;

TEST(GgufModels, SmolLM2MatchesConvertedFolder) {
    compare("smollm2-135m", kSmolPrompt, kBf16RoundingTolerance);
}

TEST(GgufModels, Qwen25CoderMatchesConvertedFolder) {
    compare("qwen2.5-coder-0.5b", kQwenPrompt, kBf16RoundingTolerance);
}

// Gemma 3 270M is fetched only on demand (`shared/models/fetch.sh --only gemma3`): skipped
// when absent. Its GGUF stores norms as 1 + w, and its layers mix sliding and full attention.
TEST(GgufModels, Gemma3MatchesConvertedFolder) {
    compare("gemma3-270m", kGemmaPrompt, kBf16RoundingTolerance);
}

}  // namespace
}  // namespace ovllm::test
