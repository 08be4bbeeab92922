// Sampler time per engine step: 256 rows of logits, vocabularies of SmolLM2 (49152) and
// Qwen2.5 (151936). Restoring the logits between steps (the sampler edits them in place)
// is excluded from the timing. Time is reported in microseconds per step.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

#include "sampling/sampler.hpp"

namespace {

using namespace ovllm::sampling;
using ovllm::SamplingParams;

constexpr size_t kRows = 256;
constexpr size_t kPromptLen = 512;
constexpr size_t kOutputLen = 128;

enum class Mode { greedy, top_k_top_p, top_p_only, temperature_only, penalties };

SamplingParams params_for(Mode mode) {
    SamplingParams p;
    switch (mode) {
        case Mode::greedy:
            p.temperature = 0.0f;
            break;
        case Mode::top_k_top_p:
            p.temperature = 0.8f;
            p.top_k = 50;
            p.top_p = 0.9f;
            break;
        case Mode::top_p_only:
            p.temperature = 0.8f;
            p.top_p = 0.9f;
            break;
        case Mode::temperature_only:
            p.temperature = 0.8f;
            break;
        case Mode::penalties:
            p.temperature = 0.8f;
            p.top_k = 50;
            p.top_p = 0.9f;
            p.repetition_penalty = 1.1f;
            p.frequency_penalty = 0.5f;
            p.presence_penalty = 0.5f;
            break;
    }
    return p;
}

void BM_Sampler(benchmark::State& state) {
    const size_t vocab = static_cast<size_t>(state.range(0));
    const auto mode = static_cast<Mode>(state.range(1));
    const auto threads = static_cast<size_t>(state.range(2));
    // Logits shaped like a language model's: mostly noise, a handful of strong tokens.
    std::mt19937 gen(7);
    std::normal_distribution<float> noise(0.0f, 2.0f);
    std::uniform_int_distribution<int64_t> token(0, static_cast<int64_t>(vocab) - 1);
    std::vector<float> pristine(kRows * vocab);
    for (float& v : pristine) v = noise(gen);
    for (size_t r = 0; r < kRows; ++r)
        for (int strong = 0; strong < 8; ++strong) pristine[r * vocab + token(gen)] += 12.0f;
    std::vector<float> logits = pristine;

    const SamplingParams params = params_for(mode);
    std::vector<std::vector<int64_t>> prompts(kRows), outputs(kRows);
    std::vector<RngState> rngs(kRows);
    std::vector<SamplerRow> rows(kRows);
    for (size_t r = 0; r < kRows; ++r) {
        for (size_t i = 0; i < kPromptLen; ++i) prompts[r].push_back(token(gen));
        for (size_t i = 0; i < kOutputLen; ++i) outputs[r].push_back(token(gen));
        rngs[r] = RngState::from_seed(r);
        rows[r].params = &params;
        rows[r].prompt_ids = prompts[r];
        rows[r].output_ids = outputs[r];
        rows[r].rng = &rngs[r];
    }
    Sampler sampler(0, threads);
    SamplerOutput out;
    for (auto _ : state) {
        state.PauseTiming();
        std::copy(pristine.begin(), pristine.end(), logits.begin());
        state.ResumeTiming();
        sampler.sample(logits, vocab, rows, out);
        benchmark::DoNotOptimize(out.rows.data());
    }
    state.counters["rows"] = static_cast<double>(kRows);
}

void Arguments(benchmark::internal::Benchmark* bench) {
    const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
    for (const int64_t vocab : {49152, 151936})
        for (const Mode mode : {Mode::greedy, Mode::top_k_top_p, Mode::top_p_only,
                                Mode::temperature_only, Mode::penalties})
            for (const int64_t threads : {int64_t{1}, cores})
                if (threads == 1 || cores > 1)
                    bench->Args({vocab, static_cast<int64_t>(mode), threads});
    // mode: 0 greedy, 1 top-k 50 + top-p 0.9, 2 top-p 0.9, 3 temperature only,
    // 4 penalties (repetition 1.1, frequency 0.5, presence 0.5) + mode 1
    bench->ArgNames({"vocab", "mode", "threads"});
    bench->Unit(benchmark::kMicrosecond);
    bench->UseRealTime();
}

BENCHMARK(BM_Sampler)->Apply(Arguments);

}  // namespace

BENCHMARK_MAIN();
