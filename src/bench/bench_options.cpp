#include "bench/bench_options.hpp"

#include "util/error.hpp"

namespace ovllm::bench {
namespace {

void check_at_least(const char* flag, int value, int minimum) {
    if (value < minimum) throw_error("{}: must be >= {} (got {})", flag, minimum, value);
}

void check_temperature(double temperature) {
    if (!(temperature >= 0.0)) throw_error("--temperature: must be >= 0 (got {})", temperature);
}

// ovllm's own benchmark flags: the sampling temperature and per-operation profiling.
void add_ovllm_flags(CLI::App& app, double& temperature, bool& profile_ops) {
    config::add_value_flag(app, "temperature", temperature,
                           "sampling temperature (vLLM's benchmarks: 1.0; 0 = greedy)");
    app.add_flag(config::flag_names("profile-ops"), profile_ops,
                 "log the model's time per operation type at the end");
}

}  // namespace

EngineConfig bench_engine_defaults() {
    EngineConfig config;
    config.model = kDefaultBenchModel;
    return config;
}

void add_throughput_flags(CLI::App& app, ThroughputOptions& options, config::FlagTracker& tracker) {
    config::add_engine_flags(app, options.engine, tracker);
    app.add_option(config::flag_names("dataset") + "," + config::flag_names("dataset-path"),
                   options.dataset_path, "ShareGPT JSON file");
    config::add_value_flag(app, "dataset-name", options.dataset_name,
                           "sharegpt or random (default: sharegpt when a dataset file is given)")
        ->check(config::one_of({"sharegpt", "random"}));
    config::add_value_flag(app, "input-len", options.input_len, "prompt tokens (random dataset)");
    config::add_value_flag(app, "output-len", options.output_len,
                           "tokens to generate per request (overrides the dataset's)");
    config::add_value_flag(app, "n", options.n, "sequences per prompt");
    config::add_value_flag(app, "num-prompts", options.num_prompts, "number of requests");
    config::add_value_flag(app, "random-range-ratio", options.random_range_ratio,
                           "random dataset: lengths vary by this fraction either way");
    config::add_value_flag(app, "prefix-len", options.prefix_len,
                           "random dataset: tokens of a prefix shared by every prompt");
    config::add_value_flag(app, "output-json", options.output_json,
                           "write the results to this JSON file");
    add_ovllm_flags(app, options.temperature, options.engine.profile_ops);
}

void add_latency_flags(CLI::App& app, LatencyOptions& options, config::FlagTracker& tracker) {
    config::add_engine_flags(app, options.engine, tracker);
    config::add_value_flag(app, "input-len", options.input_len, "prompt tokens");
    config::add_value_flag(app, "output-len", options.output_len, "tokens to generate");
    config::add_value_flag(app, "batch-size", options.batch_size, "prompts per batch");
    config::add_value_flag(app, "n", options.n, "sequences per prompt");
    config::add_value_flag(app, "num-iters-warmup", options.num_iters_warmup,
                           "untimed iterations first");
    config::add_value_flag(app, "num-iters", options.num_iters, "timed iterations");
    config::add_value_flag(app, "output-json", options.output_json,
                           "write the latencies to this JSON file");
    add_ovllm_flags(app, options.temperature, options.engine.profile_ops);
}

std::string dataset_kind(const ThroughputOptions& options) {
    if (!options.dataset_name.empty()) return options.dataset_name;
    return options.dataset_path.empty() ? "random" : "sharegpt";
}

void validate(const ThroughputOptions& options) {
    check_at_least("--num-prompts", options.num_prompts, 1);
    check_at_least("--n", options.n, 1);
    check_temperature(options.temperature);
    const std::string kind = dataset_kind(options);
    if (kind != "sharegpt" && kind != "random") {
        throw_error("--dataset-name: '{}' is not one of: sharegpt, random", kind);
    }
    if (kind == "sharegpt" && options.dataset_path.empty()) {
        throw_error("--dataset-name sharegpt needs --dataset-path");
    }
    if (kind == "random") {
        if (!options.input_len) throw_error("--input-len: required without --dataset");
        if (!options.output_len) throw_error("--output-len: required without --dataset");
        check_at_least("--input-len", *options.input_len, 1);
        check_at_least("--prefix-len", options.prefix_len, 0);
        if (!(options.random_range_ratio >= 0.0 && options.random_range_ratio < 1.0)) {
            throw_error("--random-range-ratio: must be in [0, 1) (got {})",
                        options.random_range_ratio);
        }
    }
    if (options.output_len) check_at_least("--output-len", *options.output_len, 1);
}

void validate(const LatencyOptions& options) {
    check_at_least("--input-len", options.input_len, 1);
    check_at_least("--output-len", options.output_len, 1);
    check_at_least("--batch-size", options.batch_size, 1);
    check_at_least("--n", options.n, 1);
    check_at_least("--num-iters-warmup", options.num_iters_warmup, 0);
    check_at_least("--num-iters", options.num_iters, 1);
    check_temperature(options.temperature);
}

RandomDatasetOptions random_dataset_options(const ThroughputOptions& options, int64_t vocab_size) {
    validate(options);
    RandomDatasetOptions random;
    random.num_requests = options.num_prompts;
    random.input_len = options.input_len.value_or(0);
    random.output_len = options.output_len.value_or(0);
    random.range_ratio = options.random_range_ratio;
    random.prefix_len = options.prefix_len;
    random.vocab_size = vocab_size;
    random.seed = options.engine.seed;
    return random;
}

}  // namespace ovllm::bench
