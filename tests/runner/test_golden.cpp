// Every tiny golden model through the paged runner in f32: prompt logits (one prefill),
// per-step decode logits and the greedy continuation against transformers.
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <openvino/runtime/core.hpp>

#include "golden_util.hpp"
#include "lossy_bounds.hpp"
#include "model/loader.hpp"
#include "runner/model_runner.hpp"
#include "util/error.hpp"

namespace ovllm::test {
namespace {

// README §1: intrinsic f32 noise is < 1e-5; every config feature moves logits by >= 7e-4.
constexpr double kExactTolerance = 1e-4;

class GoldenModelTest : public ::testing::TestWithParam<std::string> {};

// The stateful graph itself, one forward over each whole prompt: logits at every position.
TEST_P(GoldenModelTest, StatefulModelMatchesEveryPromptPosition) {
    const Golden golden(GetParam());
    const model::LoadedModel loaded = model::load_model(golden.folder.string());
    ov::Core core;
    ov::CompiledModel compiled =
        core.compile_model(loaded.model, "CPU", runner::compile_properties(exact_options(1)));
    const size_t vocab = static_cast<size_t>(loaded.config.vocab_size);
    for (const GoldenPrompt& prompt : golden.prompts) {
        ov::InferRequest request = compiled.create_infer_request();
        const size_t n = prompt.ids.size();
        ov::Tensor ids(ov::element::i64, {1, n});
        ov::Tensor mask(ov::element::i64, {1, n});
        ov::Tensor positions(ov::element::i64, {1, n});
        ov::Tensor beam(ov::element::i32, {1});
        for (size_t i = 0; i < n; ++i) {
            ids.data<int64_t>()[i] = prompt.ids[i];
            mask.data<int64_t>()[i] = 1;
            positions.data<int64_t>()[i] = static_cast<int64_t>(i);
        }
        beam.data<int32_t>()[0] = 0;
        request.set_tensor("input_ids", ids);
        request.set_tensor("attention_mask", mask);
        request.set_tensor("position_ids", positions);
        request.set_tensor("beam_idx", beam);
        request.infer();
        const ov::Tensor logits = request.get_tensor("logits");  // [1, n, vocab]
        ASSERT_EQ(logits.get_shape(), (ov::Shape{1, n, vocab}));
        for (size_t i = 0; i < n; ++i) {
            EXPECT_LT(max_abs_diff(logits.data<const float>() + i * vocab,
                                   golden.row(prompt.logits_tensor, i), vocab),
                      kExactTolerance)
                << prompt.name << " position " << i;
        }
    }
}

// The paged runner: prefill each prompt in one run(), then decode 24 tokens greedily.
TEST_P(GoldenModelTest, RunnerPrefillDecodeAndGreedyMatch) {
    const Golden golden(GetParam());
    const model::LoadedModel loaded = model::load_model(golden.folder.string());
    runner::ModelRunner runner(loaded.model, exact_options(16));
    const size_t vocab = static_cast<size_t>(loaded.config.vocab_size);
    for (const GoldenPrompt& prompt : golden.prompts) {
        runner::SequenceInput seq;
        seq.token_ids = prompt.ids;
        seq.block_table = block_range(
            0, blocks_for(prompt.ids.size() + prompt.greedy.size(), runner.block_size()));
        runner::LogitsView logits = runner.run({{seq}});
        ASSERT_EQ(logits.rows, 1u);
        ASSERT_EQ(logits.vocab, vocab);
        EXPECT_LT(max_abs_diff(logits.row(0),
                               golden.row(prompt.logits_tensor, prompt.ids.size() - 1), vocab),
                  kExactTolerance)
            << prompt.name << " last prompt position";
        for (size_t step = 0; step < prompt.greedy.size(); ++step) {
            EXPECT_LT(
                max_abs_diff(logits.row(0), golden.row(prompt.gen_logits_tensor, step), vocab),
                kExactTolerance)
                << prompt.name << " step " << step;
            const int64_t next = argmax(logits.row(0), vocab);
            ASSERT_EQ(next, prompt.greedy[step]) << prompt.name << " step " << step;
            seq.past_len += static_cast<int64_t>(seq.token_ids.size());
            seq.token_ids = {next};
            logits = runner.run({{seq}});
        }
    }
}

// Extra logits rows (prompt logprobs): a prefill in two chunks, each asking for the logits of
// every new token, next to a second sequence that asks for none. Each extra row is that
// prompt position's logits; the sampled rows come first and stay what they were.
TEST_P(GoldenModelTest, RunnerExtraRowsMatchEveryPromptPosition) {
    const Golden golden(GetParam());
    const model::LoadedModel loaded = model::load_model(golden.folder.string());
    runner::ModelRunner runner(loaded.model, exact_options(16));
    const size_t vocab = static_cast<size_t>(loaded.config.vocab_size);
    const GoldenPrompt& other = golden.prompts[1];
    for (const GoldenPrompt& prompt : golden.prompts) {
        const size_t n = prompt.ids.size();
        const size_t half = n / 2;  // 0 for the 1-token prompt: one chunk
        const int32_t blocks = blocks_for(n, runner.block_size());
        runner::SequenceInput plain;  // another sequence of the step, sampled, no extra rows
        plain.token_ids = other.ids;
        plain.block_table = block_range(8, blocks_for(other.ids.size(), runner.block_size()));
        for (const auto& [begin, end] : {std::pair{size_t{0}, half}, std::pair{half, n}}) {
            if (begin == end) continue;
            runner::SequenceInput seq;
            seq.token_ids.assign(prompt.ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                 prompt.ids.begin() + static_cast<std::ptrdiff_t>(end));
            seq.past_len = static_cast<int64_t>(begin);
            seq.block_table = block_range(0, blocks);
            seq.sample = end == n;
            seq.extra_logits_count = end - begin;
            const runner::LogitsView logits = runner.run({{plain, seq}});
            ASSERT_EQ(logits.rows, seq.sample ? 2u : 1u);
            ASSERT_EQ(logits.extra_rows, end - begin);
            EXPECT_LT(max_abs_diff(logits.row(0),
                                   golden.row(other.logits_tensor, other.ids.size() - 1), vocab),
                      kExactTolerance)
                << prompt.name << " the other sequence's sampled row";
            if (seq.sample) {
                EXPECT_LT(
                    max_abs_diff(logits.row(1), golden.row(prompt.logits_tensor, n - 1), vocab),
                    kExactTolerance)
                    << prompt.name << " sampled row";
            }
            for (size_t i = 0; i < end - begin; ++i) {
                EXPECT_LT(max_abs_diff(logits.extra_row(i),
                                       golden.row(prompt.logits_tensor, begin + i), vocab),
                          kExactTolerance)
                    << prompt.name << " position " << begin + i;
            }
        }
    }
    runner::SequenceInput bad;
    bad.token_ids = {3, 4};
    bad.block_table = block_range(0, 1);
    bad.extra_logits_begin = 1;
    bad.extra_logits_count = 2;
    EXPECT_THROW(runner.run({{bad}}), Error);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, GoldenModelTest, ::testing::ValuesIn(tiny_golden_models()),
                         GoldenModelParamName());

}  // namespace
}  // namespace ovllm::test

namespace ovllm::test {
namespace {

// Feeds the golden greedy tokens back (teacher forcing, so every step compares like with
// like) and adds each step's logits, against transformers' gen_logits, to the error.
// `on_step(prompt, step, logits row)` sees each row too.
template <class OnStep>
LogitError teacher_forced_error(const std::shared_ptr<ov::Model>& model,
                                runner::RunnerOptions options, const Golden& golden,
                                OnStep on_step) {
    options.num_kv_blocks = 16;
    runner::ModelRunner runner(model, options);
    LogitError error;
    for (const GoldenPrompt& prompt : golden.prompts) {
        runner::SequenceInput seq;
        seq.token_ids = prompt.ids;
        seq.block_table = block_range(
            0, blocks_for(prompt.ids.size() + prompt.greedy.size(), runner.block_size()));
        runner::LogitsView logits = runner.run({{seq}});
        for (size_t step = 0; step < prompt.greedy.size(); ++step) {
            error.add(logits.row(0), golden.row(prompt.gen_logits_tensor, step), logits.vocab);
            on_step(prompt, step, logits.row(0));
            seq.past_len += static_cast<int64_t>(seq.token_ids.size());
            seq.token_ids = {prompt.greedy[step]};
            logits = runner.run({{seq}});
        }
    }
    return error;
}

// Default precisions (bf16 compute, u8 KV cache) against transformers' f32 logits, bounded by
// the model's own sensitivity S (tests/lossy_bounds.hpp): the error of the exact f32 path with
// every weight perturbed by one bf16 rounding. bf16 compute makes that weight error, rounds
// activations at about as many places per layer, and the u8 cache quantizes keys and values to
// 8 bits: three independent errors of about S each, sqrt(3) S together in root mean square.
// The bound, 3 S, leaves room for how CPUs' kernels differ (AMX and AVX-512 BF16 accumulate
// and round partial sums differently); the max over all logits gets the same factor over
// S's max. Argmax must agree wherever the golden top-2 margin exceeds twice the max bound.
constexpr double kDefaultOverSensitivity = 3.0;

class DefaultPrecisionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DefaultPrecisionTest, LogitsCloseAndConfidentTokensEqual) {
    const Golden golden(GetParam());
    const model::LoadedModel loaded = model::load_model(golden.folder.string());
    const auto ignore = [](const GoldenPrompt&, size_t, const float*) {};
    const LogitError sensitivity = teacher_forced_error(
        perturb_weights(loaded.model, kBf16UnitRoundoff), exact_options(16), golden, ignore);
    const double max_bound = kDefaultOverSensitivity * sensitivity.max_abs;
    const size_t vocab = static_cast<size_t>(loaded.config.vocab_size);
    const LogitError error = teacher_forced_error(
        loaded.model, runner::RunnerOptions{},  // defaults: bf16 inference, u8 KV cache
        golden, [&](const GoldenPrompt& prompt, size_t step, const float* row) {
            if (prompt.greedy_margins[step] > 2 * max_bound) {
                EXPECT_EQ(argmax(row, vocab), prompt.greedy[step])
                    << prompt.name << " step " << step;
            }
        });
    std::printf("%s default precision: max |diff| %.4g, rms %.4g; sensitivity max %.4g, rms %.4g\n",
                GetParam().c_str(), error.max_abs, error.rms(), sensitivity.max_abs,
                sensitivity.rms());
    RecordProperty("max_abs_diff", std::to_string(error.max_abs));
    EXPECT_GT(sensitivity.rms(), 0.0);
    EXPECT_LT(error.rms(), kDefaultOverSensitivity * sensitivity.rms());
    EXPECT_LT(error.max_abs, max_bound);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, DefaultPrecisionTest,
                         ::testing::ValuesIn(tiny_golden_models()), GoldenModelParamName());

}  // namespace
}  // namespace ovllm::test
