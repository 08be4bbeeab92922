// Model runner costs: load + compile, and one step of prefill (8 x 128 tokens) or decode
// (64 sequences of 128 past tokens each), at the default precisions (bf16 compute, u8 KV).
#include <map>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "model/loader.hpp"
#include "runner/model_runner.hpp"
#include "test_paths.hpp"

namespace {

using ovllm::model::LoadFormat;
using ovllm::runner::ModelInput;
using ovllm::runner::ModelRunner;

constexpr size_t kPrefillSequences = 8;
constexpr size_t kPrefillTokens = 128;
constexpr size_t kDecodeSequences = 64;
constexpr size_t kDecodePast = 128;

struct Target {
    std::string model;
    LoadFormat format;
};

Target target(int index) {
    if (index == 0) return {"facebook/opt-125m", LoadFormat::dummy};
    return {(ovllm::test::models_dir() / "qwen2.5-coder-0.5b").string(), LoadFormat::auto_detect};
}

std::unique_ptr<ModelRunner> make_runner(const Target& t, size_t blocks) {
    const auto loaded = ovllm::model::load_model(t.model, t.format);
    ovllm::runner::RunnerOptions options;
    options.num_kv_blocks = blocks;
    return std::make_unique<ModelRunner>(loaded.model, options);
}

// One runner per target, kept across benchmarks (compiling is what BM_LoadCompile measures).
ModelRunner& shared_runner(int index) {
    static std::map<int, std::unique_ptr<ModelRunner>> runners;
    auto& runner = runners[index];
    if (!runner) runner = make_runner(target(index), kDecodeSequences * 6);
    return *runner;
}

// Blocks [first, first + count) of a contiguous range for sequence s.
std::vector<int32_t> blocks_of(size_t s, size_t per_sequence) {
    std::vector<int32_t> ids;
    for (size_t b = 0; b < per_sequence; ++b)
        ids.push_back(static_cast<int32_t>(s * per_sequence + b));
    return ids;
}

std::vector<int64_t> tokens(size_t count, size_t seed) {
    std::vector<int64_t> ids;
    for (size_t i = 0; i < count; ++i)
        ids.push_back(static_cast<int64_t>((seed * 7919 + i * 104729) % 30000 + 100));
    return ids;
}

void BM_LoadCompile(benchmark::State& state) {
    const Target t = target(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        auto runner = make_runner(t, 64);
        benchmark::DoNotOptimize(runner.get());
    }
    state.SetLabel(t.model);
}

void BM_PrefillStep(benchmark::State& state) {
    ModelRunner& runner = shared_runner(static_cast<int>(state.range(0)));
    ModelInput input;
    for (size_t s = 0; s < kPrefillSequences; ++s) {
        input.sequences.push_back({tokens(kPrefillTokens, s), 0, blocks_of(s, 6), true});
    }
    runner.run(input);  // first run on these shapes compiles kernels
    for (auto _ : state) benchmark::DoNotOptimize(runner.run(input).data);
    state.SetItemsProcessed(state.iterations() * kPrefillSequences * kPrefillTokens);
    state.SetLabel(target(static_cast<int>(state.range(0))).model);
}

void BM_DecodeStep(benchmark::State& state) {
    ModelRunner& runner = shared_runner(static_cast<int>(state.range(0)));
    ModelInput prefill;
    ModelInput decode;
    for (size_t s = 0; s < kDecodeSequences; ++s) {
        prefill.sequences.push_back({tokens(kDecodePast, s), 0, blocks_of(s, 6), false});
        decode.sequences.push_back({{7}, static_cast<int64_t>(kDecodePast), blocks_of(s, 6), true});
    }
    prefill.sequences.back().sample = true;
    runner.run(prefill);  // fill the caches once; every decode step then rewrites position 128
    runner.run(decode);
    for (auto _ : state) benchmark::DoNotOptimize(runner.run(decode).data);
    state.SetItemsProcessed(state.iterations() * kDecodeSequences);
    state.SetLabel(target(static_cast<int>(state.range(0))).model);
}

BENCHMARK(BM_LoadCompile)->Arg(0)->Arg(1)->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PrefillStep)->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeStep)->Arg(0)->Arg(1)->Iterations(10)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
