// Real checkpoints (.models/smollm2-135m: llama, .models/qwen2.5-coder-0.5b: qwen2) against
// transformers' greedy ids in ../shared/golden/real/*.json. All eight prompts of a model run
// as one batch: one prefill step, then every sequence decodes in the same step.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "golden_util.hpp"
#include "lossy_bounds.hpp"
#include "model/loader.hpp"
#include "runner/model_runner.hpp"

namespace ovllm::test {
namespace {

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

// Logits of every case at each of `steps` greedy steps, all cases batched, with the golden
// greedy tokens fed back (teacher forcing): rows[case][step] holds vocab floats.
using CaseRows = std::vector<std::vector<std::vector<float>>>;
CaseRows teacher_forced_rows(const std::shared_ptr<ov::Model>& model, runner::RunnerOptions options,
                             const std::vector<RealCase>& cases, size_t steps) {
    options.num_kv_blocks = 2 * cases.size();
    runner::ModelRunner runner(model, options);
    runner::ModelInput input;
    int32_t next_block = 0;
    for (const RealCase& c : cases) {
        const int32_t count = blocks_for(c.prompt.size() + steps, runner.block_size());
        input.sequences.push_back({c.prompt, 0, block_range(next_block, count), true});
        next_block += count;
    }
    CaseRows rows(cases.size());
    for (size_t step = 0; step < steps; ++step) {
        const runner::LogitsView logits = runner.run(input);
        for (size_t i = 0; i < cases.size(); ++i) {
            rows[i].emplace_back(logits.row(i), logits.row(i) + logits.vocab);
            runner::SequenceInput& seq = input.sequences[i];
            seq.past_len += static_cast<int64_t>(seq.token_ids.size());
            seq.token_ids = {cases[i].greedy[step]};
        }
    }
    return rows;
}

LogitError rows_error(const CaseRows& ours, const CaseRows& reference) {
    LogitError error;
    for (size_t i = 0; i < ours.size(); ++i)
        for (size_t step = 0; step < ours[i].size(); ++step)
            error.add(ours[i][step].data(), reference[i][step].data(), ours[i][step].size());
    return error;
}

// f32 compute and KV: every greedy step whose reference margin is above 1e-3 (the golden
// README's advice; all 32 steps here) equals transformers'.
void check_exact(const std::string& folder, const std::string& golden) {
    const auto path = models_dir() / folder;
    if (!std::filesystem::exists(path / "config.json")) GTEST_SKIP() << path << " not present";
    const std::vector<RealCase> cases = read_cases(golden);
    const model::LoadedModel loaded = model::load_model(path.string());
    runner::RunnerOptions options = exact_options(2 * cases.size());
    runner::ModelRunner runner(loaded.model, options);
    const size_t steps = cases.front().greedy.size();
    const auto got = batched_greedy(runner, cases, steps);
    for (size_t i = 0; i < cases.size(); ++i) {
        const size_t compared = expect_same_prefix(cases[i], got[i], steps, 1e-3, i);
        if (compared < steps)
            std::printf("%s case %zu: compared %zu of %zu steps\n", golden.c_str(), i, compared,
                        steps);
    }
}

// bf16 compute + u8 KV over the first 8 steps, teacher-forced, against the exact f32 path
// (which check_exact ties to transformers). The bound is tests/lossy_bounds.hpp's: 3x the
// model's own sensitivity S to one bf16 rounding of every weight, measured on the same path
// (see DefaultPrecisionTest for why 3). Greedy tokens must equal transformers' wherever the
// reference top-2 margin exceeds twice the max bound: no error within the bound can flip them.
void check_default_precision(const std::string& folder, const std::string& golden) {
    const auto path = models_dir() / folder;
    if (!std::filesystem::exists(path / "config.json")) GTEST_SKIP() << path << " not present";
    const std::vector<RealCase> cases = read_cases(golden);
    const model::LoadedModel loaded = model::load_model(path.string());
    constexpr size_t kSteps = 8;
    const CaseRows exact = teacher_forced_rows(loaded.model, exact_options(0), cases, kSteps);
    const LogitError sensitivity =
        rows_error(teacher_forced_rows(perturb_weights(loaded.model, kBf16UnitRoundoff),
                                       exact_options(0), cases, kSteps),
                   exact);
    const CaseRows lossy =
        teacher_forced_rows(loaded.model, runner::RunnerOptions{}, cases, kSteps);
    const LogitError error = rows_error(lossy, exact);
    std::printf("%s default precision: max |diff| %.4g, rms %.4g; sensitivity max %.4g, rms %.4g\n",
                golden.c_str(), error.max_abs, error.rms(), sensitivity.max_abs, sensitivity.rms());
    constexpr double kDefaultOverSensitivity = 3.0;
    EXPECT_GT(sensitivity.rms(), 0.0);
    EXPECT_LT(error.rms(), kDefaultOverSensitivity * sensitivity.rms());
    EXPECT_LT(error.max_abs, kDefaultOverSensitivity * sensitivity.max_abs);
    const double confident = 2 * kDefaultOverSensitivity * sensitivity.max_abs;
    size_t checked = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        for (size_t step = 0; step < kSteps; ++step) {
            if (cases[i].margins[step] <= confident) continue;
            ++checked;
            EXPECT_EQ(argmax(lossy[i][step].data(), lossy[i][step].size()), cases[i].greedy[step])
                << "case " << i << " step " << step;
        }
    }
    std::printf("%s: %zu of %zu steps have a margin over %.3g and were compared\n", golden.c_str(),
                checked, cases.size() * kSteps, confident);
}

TEST(RealModels, SmolLM2GreedyF32) {
    check_exact("smollm2-135m", "smollm2-135m");
}
TEST(RealModels, SmolLM2DefaultPrecisionWithinBound) {
    check_default_precision("smollm2-135m", "smollm2-135m");
}
TEST(RealModels, Qwen25CoderGreedyF32) {
    check_exact("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b");
}
TEST(RealModels, Qwen25CoderDefaultPrecisionWithinBound) {
    check_default_precision("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b");
}

}  // namespace
}  // namespace ovllm::test
