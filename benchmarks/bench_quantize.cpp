// Weight compression at load time and the IR cache: building the stateful graph of
// Qwen2.5-Coder 0.5B / 1.5B straight from the mmap'ed bf16 safetensors with int8 or int4
// weights, and a second start that reads the converted model back from the IR cache.
// Models come from OVLLM_MODELS_DIR (.models); a missing one skips its benchmark.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <sys/resource.h>

#include <benchmark/benchmark.h>
#include <openvino/runtime/core.hpp>

#include "model/ir_cache.hpp"
#include "model/model_config.hpp"
#include "model/quantize.hpp"
#include "model/registry.hpp"
#include "model/safetensors_weights.hpp"
#include "test_paths.hpp"

namespace {
namespace fs = std::filesystem;
using ovllm::model::WeightFormat;

fs::path model_path(int64_t index) {
    return ovllm::test::models_dir() / (index == 0 ? "qwen2.5-coder-0.5b" : "qwen2.5-coder-1.5b");
}

// CPU seconds of the whole process (all threads, user + system): on a shared machine the
// wall time depends on the neighbours, this does not.
double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return double(t.tv_sec) + double(t.tv_usec) * 1e-6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

ovllm::model::Conversion convert(const fs::path& folder, WeightFormat format, int64_t* parameters) {
    ovllm::model::CompressedWeights weights(
        std::make_shared<ovllm::model::SafetensorsWeights>(folder), format);
    auto model =
        ovllm::model::build_stateful_model(ovllm::model::load_model_config(folder), weights);
    *parameters = weights.statistics().total_parameters();
    return {model, weights.statistics().table()};
}

// Args: model (0 = 0.5B, 1 = 1.5B), format (1 = int8, 2 = int4).
void BM_CompressFromSafetensors(benchmark::State& state) {
    const fs::path folder = model_path(state.range(0));
    if (!fs::exists(folder / "config.json")) {
        state.SkipWithError(("no model at " + folder.string()).c_str());
        return;
    }
    const auto format = state.range(1) == 1 ? WeightFormat::int8 : WeightFormat::int4;
    int64_t parameters = 0;
    const double cpu_start = process_cpu_seconds();
    for (auto _ : state) {
        auto converted = convert(folder, format, &parameters);
        benchmark::DoNotOptimize(converted.model);
    }
    state.counters["process_cpu_s"] =
        benchmark::Counter(process_cpu_seconds() - cpu_start, benchmark::Counter::kAvgIterations);
    state.counters["compressed_params"] = static_cast<double>(parameters);
    state.counters["params_per_s"] = benchmark::Counter(
        static_cast<double>(parameters), benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(folder.filename().string() + " " + ovllm::model::weight_format_name(format));
}
BENCHMARK(BM_CompressFromSafetensors)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

// A second start of the 0.5B int8 model: the fingerprint, reading the cached IR (mmap'ed)
// and, as a separate figure, compiling it for the CPU.
void BM_SecondStartFromIrCache(benchmark::State& state) {
    const fs::path folder = model_path(0);
    if (!fs::exists(folder / "config.json")) {
        state.SkipWithError(("no model at " + folder.string()).c_str());
        return;
    }
    const fs::path root = fs::temp_directory_path() / "ovllm_bench_ir_cache";
    fs::remove_all(root);
    const ovllm::model::IrCache cache(root);
    int64_t parameters = 0;
    const auto converter = [&] { return convert(folder, WeightFormat::int8, &parameters); };
    ovllm::model::load_or_convert(cache, folder, WeightFormat::int8, converter);  // first start
    const bool compile = state.range(0) == 1;
    const double cpu_start = process_cpu_seconds();
    for (auto _ : state) {
        const auto loaded =
            ovllm::model::load_or_convert(cache, folder, WeightFormat::int8, converter);
        if (!loaded.from_cache) state.SkipWithError("the second start converted again");
        if (compile) {
            ov::Core core;
            benchmark::DoNotOptimize(core.compile_model(loaded.model, "CPU"));
        }
    }
    state.counters["process_cpu_s"] =
        benchmark::Counter(process_cpu_seconds() - cpu_start, benchmark::Counter::kAvgIterations);
    state.SetLabel(compile ? "read IR + compile" : "read IR");
    fs::remove_all(root);
}
BENCHMARK(BM_SecondStartFromIrCache)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
