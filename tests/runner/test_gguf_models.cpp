// GGUF files against two references, same prompt, f32 compute and f32 KV, no dynamic
// activation quantization (the runner's exact mode):
// - the same GGUF dequantized to f32 (load_gguf's reference mode): the compressed weights differ
//   from it only by the f16 rounding of products/quotients in scales and zero points;
// - the HF folders converted from it (../shared/models: the GGUF dequantized to f32 and rounded
//   to bf16): the logits differ by that bf16 rounding of every weight.
// Greedy ids agree in both.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden_util.hpp"
#include "model/gguf_weights.hpp"
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

Trace greedy_trace(const model::LoadedModel& loaded, const std::vector<int64_t>& prompt) {
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

// Largest |difference| of the logits over all steps; the greedy ids must agree.
double worst_difference(const Trace& a, const Trace& b) {
    EXPECT_EQ(a.greedy, b.greedy);
    double worst = 0.0;
    for (size_t step = 0; step < kSteps; ++step) {
        EXPECT_EQ(a.logits[step].size(), b.logits[step].size());
        worst = std::max(worst, max_abs_diff(a.logits[step].data(), b.logits[step].data(),
                                             a.logits[step].size()));
    }
    return worst;
}

// The bf16 folder rounds every weight by up to 2^-9 relative: measured max |diff| over the 16
// steps smollm2 0.218, qwen2.5-coder-0.5b 0.092, gemma3-270m 0.098 (logits reach ~20).
constexpr double kBf16RoundingTolerance = 0.5;
// The compressed weights are off by at most 2^-11 x (|w| + 2|offset|), where the group offset
// (m of Q4_1, dmin*m of K-quants) is at most the group's range: at most 1.5 x 2^-10 of the
// range, below the bf16 step of the folder above, so the same tolerance holds with margin.
constexpr double kF16ScaleTolerance = kBf16RoundingTolerance;

void compare(const std::string& name, const std::vector<int64_t>& prompt) {
    const auto gguf = models_dir() / (name + ".gguf");
    const auto folder = models_dir() / name;
    if (!std::filesystem::exists(gguf) || !std::filesystem::exists(folder / "config.json")) {
        GTEST_SKIP() << gguf << " or " << folder << " not present";
    }
    const Trace compressed = greedy_trace(model::load_gguf(gguf), prompt);
    const Trace f32 = greedy_trace(model::load_gguf(gguf, /*dequantize_f32=*/true), prompt);
    const Trace bf16 = greedy_trace(model::load_model(folder.string()), prompt);
    const double vs_f32 = worst_difference(compressed, f32);
    const double vs_bf16 = worst_difference(compressed, bf16);
    std::printf(
        "%s: max |logits(GGUF compressed) - logits(f32 dequantized)| = %.4g, "
        "- logits(bf16 folder)| = %.4g over %zu steps\n",
        name.c_str(), vs_f32, vs_bf16, kSteps);
    EXPECT_LT(vs_f32, kF16ScaleTolerance);
    EXPECT_LT(vs_bf16, kBf16RoundingTolerance + kF16ScaleTolerance);
}

TEST(GgufModels, SmolLM2MatchesConvertedFolder) {
    compare("smollm2-135m", kSmolPrompt);
}

TEST(GgufModels, Qwen25CoderMatchesConvertedFolder) {
    compare("qwen2.5-coder-0.5b", kQwenPrompt);
}

// Gemma 3 270M is fetched only on demand (`shared/models/fetch.sh --only gemma3`): skipped
// when absent. Its GGUF stores norms as 1 + w, and its layers mix sliding and full attention.
TEST(GgufModels, Gemma3MatchesConvertedFolder) {
    compare("gemma3-270m", kGemmaPrompt);
}

}  // namespace
}  // namespace ovllm::test
