// Real checkpoints (.models/smollm2-135m: llama, .models/qwen2.5-coder-0.5b: qwen2) against
// transformers' greedy ids in ../shared/golden/real/*.json. All eight prompts of a model run
// as one batch: one prefill step, then every sequence decodes in the same step.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "golden_util.hpp"
#include "model/loader.hpp"
#include "runner/model_runner.hpp"

namespace ovllm::test {
namespace {

// With bf16 compute + u8 KV, smollm2 case 4 picks another token at step 3, where the f32
// reference margin is 0.016; no step with a larger margin differs in the first 8. Steps under
// this margin are near-ties at bf16 and end the comparison (reported on stdout).
constexpr double kBf16NearTie = 0.02;

struct RealCase {
    std::vector<int64_t> prompt;
    std::vector<int64_t> greedy;
    std::vector<double> margins;  // top-2 gap at each greedy step
};

std::vector<RealCase> read_cases(const std::string& model) {
    std::ifstream in(golden_dir() / "real" / (model + ".json"));
    const auto json = nlohmann::json::parse(in);
    std::vector<RealCase> cases;
    for (const auto& c : json.at("cases")) {
        cases.push_back({c.at("prompt_token_ids").get<std::vector<int64_t>>(),
                         c.at("greedy").get<std::vector<int64_t>>(),
                         c.at("top2_margins").get<std::vector<double>>()});
    }
    return cases;
}

// Greedy ids of every case, `steps` each, all cases batched in each run().
std::vector<std::vector<int64_t>> batched_greedy(runner::ModelRunner& runner,
                                                 const std::vector<RealCase>& cases, size_t steps) {
    runner::ModelInput input;
    int32_t next_block = 0;
    for (const RealCase& c : cases) {
        const int32_t count = blocks_for(c.prompt.size() + steps, runner.block_size());
        input.sequences.push_back({c.prompt, 0, block_range(next_block, count), true});
        next_block += count;
    }
    std::vector<std::vector<int64_t>> out(cases.size());
    for (size_t step = 0; step < steps; ++step) {
        const runner::LogitsView logits = runner.run(input);
        for (size_t i = 0; i < cases.size(); ++i) {
            runner::SequenceInput& seq = input.sequences[i];
            const int64_t next = argmax(logits.row(i), logits.vocab);
            out[i].push_back(next);
            seq.past_len += static_cast<int64_t>(seq.token_ids.size());
            seq.token_ids = {next};
        }
    }
    return out;
}

// Compares up to `steps` tokens, stopping before the first step whose reference top-2 margin
// is under `near_tie` (past it another continuation is equally valid). Returns steps compared.
size_t expect_same_prefix(const RealCase& c, const std::vector<int64_t>& got, size_t steps,
                          double near_tie, size_t case_index) {
    size_t compared = 0;
    for (; compared < steps && compared < c.greedy.size(); ++compared) {
        if (c.margins[compared] < near_tie) break;
        EXPECT_EQ(got[compared], c.greedy[compared])
            << "case " << case_index << " step " << compared;
        if (got[compared] != c.greedy[compared]) break;
    }
    return compared;
}

void check_model(const std::string& folder, const std::string& golden, bool exact) {
    const auto path = models_dir() / folder;
    if (!std::filesystem::exists(path / "config.json")) GTEST_SKIP() << path << " not present";
    const std::vector<RealCase> cases = read_cases(golden);
    const model::LoadedModel loaded = model::load_model(path.string());
    runner::RunnerOptions options;  // default bf16 compute + u8 KV, or f32/f32
    if (exact) options = exact_options(0);
    options.num_kv_blocks = 2 * cases.size();
    runner::ModelRunner runner(loaded.model, options);
    // f32: every step whose margin is above 1e-3 (the README's advice; all 32 here).
    // bf16 + u8 KV: the first 8 tokens, skipping past steps whose margin is under kBf16NearTie.
    const size_t steps = exact ? cases.front().greedy.size() : 8;
    const double near_tie = exact ? 1e-3 : kBf16NearTie;
    const auto got = batched_greedy(runner, cases, steps);
    for (size_t i = 0; i < cases.size(); ++i) {
        const size_t compared = expect_same_prefix(cases[i], got[i], steps, near_tie, i);
        if (compared < steps)
            std::printf("%s case %zu: compared %zu of %zu steps\n", golden.c_str(), i, compared,
                        steps);
    }
}

TEST(RealModels, SmolLM2GreedyF32) {
    check_model("smollm2-135m", "smollm2-135m", true);
}
TEST(RealModels, SmolLM2GreedyDefaultPrecision) {
    check_model("smollm2-135m", "smollm2-135m", false);
}
TEST(RealModels, Qwen25CoderGreedyF32) {
    check_model("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b", true);
}
TEST(RealModels, Qwen25CoderGreedyDefaultPrecision) {
    check_model("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b", false);
}

}  // namespace
}  // namespace ovllm::test
