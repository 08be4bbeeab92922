#include <gtest/gtest.h>

#include "bench/bench_options.hpp"
#include "util/error.hpp"

namespace ovllm::bench {
namespace {

template <typename Options, typename Add>
void parse(Options& options, Add add, std::vector<std::string> args) {
    CLI::App app;
    config::FlagTracker tracker;
    add(app, options, tracker);
    args.insert(args.begin(), "bench");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
}

std::string validate_error(const ThroughputOptions& options) {
    try {
        validate(options);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(BenchOptions, VllmDefaults) {
    const ThroughputOptions throughput;
    EXPECT_EQ(throughput.num_prompts, 1000);
    EXPECT_EQ(throughput.n, 1);
    EXPECT_EQ(throughput.engine.model, "facebook/opt-125m");
    EXPECT_FALSE(throughput.input_len.has_value());
    const LatencyOptions latency;
    EXPECT_EQ(latency.input_len, 32);
    EXPECT_EQ(latency.output_len, 128);
    EXPECT_EQ(latency.batch_size, 8);
    EXPECT_EQ(latency.num_iters_warmup, 10);
    EXPECT_EQ(latency.num_iters, 30);
    EXPECT_EQ(latency.engine.model, "facebook/opt-125m");
}

TEST(BenchOptions, ThroughputFlagsInVllmSpellings) {
    ThroughputOptions options;
    parse(options, add_throughput_flags,
          {"--num_prompts=8", "--input-len", "16", "--output_len", "4", "--random-range-ratio",
           "0.25", "--prefix-len=2", "--output-json", "out.json", "--model", "m", "--seed", "3"});
    EXPECT_EQ(options.num_prompts, 8);
    EXPECT_EQ(options.input_len, 16);
    EXPECT_EQ(options.output_len, 4);
    EXPECT_EQ(options.output_json, "out.json");
    EXPECT_EQ(options.engine.model, "m");
    EXPECT_EQ(dataset_kind(options), "random");
    const RandomDatasetOptions random = random_dataset_options(options, 32000);
    EXPECT_EQ(random.num_requests, 8);
    EXPECT_EQ(random.input_len, 16);
    EXPECT_EQ(random.output_len, 4);
    EXPECT_EQ(random.range_ratio, 0.25);
    EXPECT_EQ(random.prefix_len, 2);
    EXPECT_EQ(random.vocab_size, 32000);
    EXPECT_EQ(random.seed, 3u);
}

TEST(BenchOptions, DatasetFileMeansShareGpt) {
    ThroughputOptions options;
    parse(options, add_throughput_flags, {"--dataset", "sharegpt.json"});
    EXPECT_EQ(options.dataset_path, "sharegpt.json");
    EXPECT_EQ(dataset_kind(options), "sharegpt");
    EXPECT_EQ(validate_error(options), "no error");
    ThroughputOptions path;
    parse(path, add_throughput_flags, {"--dataset_path=x.json", "--dataset-name", "sharegpt"});
    EXPECT_EQ(path.dataset_path, "x.json");
}

TEST(BenchOptions, ThroughputValidation) {
    ThroughputOptions options;
    EXPECT_EQ(validate_error(options), "--input-len: required without --dataset");
    options.input_len = 8;
    EXPECT_EQ(validate_error(options), "--output-len: required without --dataset");
    options.output_len = 8;
    EXPECT_EQ(validate_error(options), "no error");
    options.random_range_ratio = 1.5;
    EXPECT_EQ(validate_error(options), "--random-range-ratio: must be in [0, 1) (got 1.5)");
    options.random_range_ratio = 0.0;
    options.num_prompts = 0;
    EXPECT_EQ(validate_error(options), "--num-prompts: must be >= 1 (got 0)");
    options.num_prompts = 1;
    options.dataset_name = "sharegpt";
    EXPECT_EQ(validate_error(options), "--dataset-name sharegpt needs --dataset-path");
}

TEST(BenchOptions, TemperatureDefaultsToVllmsAndZeroIsGreedy) {
    ThroughputOptions options;
    EXPECT_EQ(options.temperature, 1.0);
    parse(options, add_throughput_flags, {"--input-len=4", "--output-len=4", "--temperature=0"});
    EXPECT_EQ(options.temperature, 0.0);
    EXPECT_EQ(validate_error(options), "no error");
    options.temperature = -0.5;
    EXPECT_EQ(validate_error(options), "--temperature: must be >= 0 (got -0.5)");
    LatencyOptions latency;
    parse(latency, add_latency_flags, {"--temperature", "0"});
    EXPECT_EQ(latency.temperature, 0.0);
}

TEST(BenchOptions, LatencyFlags) {
    LatencyOptions options;
    parse(options, add_latency_flags,
          {"--input-len", "64", "--output_len=16", "--batch-size", "2", "--num-iters-warmup", "1",
           "--num_iters", "3", "--enable-prefix-caching"});
    EXPECT_EQ(options.input_len, 64);
    EXPECT_EQ(options.output_len, 16);
    EXPECT_EQ(options.batch_size, 2);
    EXPECT_EQ(options.num_iters_warmup, 1);
    EXPECT_EQ(options.num_iters, 3);
    EXPECT_TRUE(options.engine.enable_prefix_caching);
    EXPECT_NO_THROW(validate(options));
    options.num_iters = 0;
    EXPECT_THROW(validate(options), Error);
}

}  // namespace
}  // namespace ovllm::bench
