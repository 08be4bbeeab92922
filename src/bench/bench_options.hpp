#pragma once
// Options of `ovllm bench throughput` and `ovllm bench latency`, with vLLM's flag names and
// defaults (benchmark_throughput.py / benchmark_latency.py). The engine flags come from
// util/cli_flags.hpp.
#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "bench/dataset.hpp"
#include "ovllm/config.hpp"
#include "util/cli_flags.hpp"

namespace ovllm::bench {

inline constexpr const char* kDefaultBenchModel = "facebook/opt-125m";  // vLLM's default

// EngineConfig defaults with vLLM's benchmark model.
EngineConfig bench_engine_defaults();

struct ThroughputOptions {
    EngineConfig engine = bench_engine_defaults();
    std::string dataset_path;         // --dataset / --dataset-path: ShareGPT JSON
    std::string dataset_name;         // --dataset-name: sharegpt | random; empty: by dataset_path
    std::optional<int> input_len;     // --input-len: required by the random dataset
    std::optional<int> output_len;    // --output-len: random dataset, or fixed ShareGPT output
    int n = 1;                        // --n: sequences per prompt
    int num_prompts = 1000;           // --num-prompts
    double random_range_ratio = 0.0;  // --random-range-ratio
    int prefix_len = 0;               // --prefix-len
    std::string output_json;          // --output-json
    // --temperature, ovllm's own flag: vLLM's benchmarks sample at 1.0; 0 is greedy, as
    // OpenVINO GenAI's and llama.cpp's benchmarks run.
    double temperature = 1.0;
};

struct LatencyOptions {
    EngineConfig engine = bench_engine_defaults();
    int input_len = 32;
    int output_len = 128;
    int batch_size = 8;
    int n = 1;
    int num_iters_warmup = 10;
    int num_iters = 30;
    std::string output_json;
    double temperature = 1.0;  // --temperature, as in ThroughputOptions
};

// Registers the engine flags and the benchmark's own flags on `app`.
void add_throughput_flags(CLI::App& app, ThroughputOptions& options, config::FlagTracker& tracker);
void add_latency_flags(CLI::App& app, LatencyOptions& options, config::FlagTracker& tracker);

// Throws ovllm::Error naming the flag when a value is out of range or missing.
void validate(const ThroughputOptions& options);
void validate(const LatencyOptions& options);

// "sharegpt" or "random", after the defaults: ShareGPT when a dataset file is given.
std::string dataset_kind(const ThroughputOptions& options);

// The random dataset these options describe; the seed is the engine's.
RandomDatasetOptions random_dataset_options(const ThroughputOptions& options, int64_t vocab_size);

}  // namespace ovllm::bench
