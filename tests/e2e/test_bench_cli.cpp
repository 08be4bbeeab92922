// The real `ovllm bench throughput` / `ovllm bench latency` on opt-125m with dummy weights:
// vLLM's output lines, the JSON file, the environment variables and the flag errors.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "command_runner.hpp"
#include "test_paths.hpp"

namespace ovllm::test {
namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

const std::string kSmallModel = "--model facebook/opt-125m --load-format dummy";

std::filesystem::path temp_json(const std::string& name) {
    return std::filesystem::temp_directory_path() / ("ovllm_bench_" + name + ".json");
}

TEST(BenchCli, ThroughputPrintsVllmLinesAndJson) {
    const auto json_path = temp_json("throughput");
    std::filesystem::remove(json_path);
    const CommandResult run = run_ovllm(
        "VLLM_OPENVINO_KVCACHE_SPACE=1 VLLM_OPENVINO_CPU_KV_CACHE_PRECISION=u8",
        "bench throughput " + kSmallModel +
            " --input-len 16 --output-len 16 --num-prompts 16 --output-json " + json_path.string(),
        true);
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_TRUE(contains(run.out, "Throughput: ")) << run.out;
    EXPECT_TRUE(contains(run.out, " requests/s, ")) << run.out;
    EXPECT_TRUE(contains(run.out, " output tokens/s")) << run.out;
    EXPECT_TRUE(contains(run.out, "Total num prompt tokens:  256\n")) << run.out;
    EXPECT_TRUE(contains(run.out, "Total num output tokens:  256\n")) << run.out;
    EXPECT_TRUE(contains(run.out, "Processed prompts: 100%")) << run.out;
    EXPECT_TRUE(contains(run.out, "16/16")) << run.out;
    EXPECT_TRUE(contains(run.out,
                         "KV cache type is overridden to u8 via "
                         "VLLM_OPENVINO_CPU_KV_CACHE_PRECISION env var."))
        << run.out;
    EXPECT_TRUE(contains(run.out, "kv_cache_dtype=u8")) << run.out;

    std::ifstream in(json_path);
    ASSERT_TRUE(in) << json_path;
    const nlohmann::json result = nlohmann::json::parse(in);
    EXPECT_EQ(result.at("num_requests").get<int>(), 16);
    EXPECT_EQ(result.at("total_num_tokens").get<int>(), 16 * (16 + 16));
    const double elapsed = result.at("elapsed_time").get<double>();
    ASSERT_GT(elapsed, 0.0);
    EXPECT_NEAR(result.at("requests_per_second").get<double>(), 16 / elapsed, 1e-6 * 16 / elapsed);
    EXPECT_NEAR(result.at("tokens_per_second").get<double>(), 512 / elapsed, 1e-6 * 512 / elapsed);
    std::filesystem::remove(json_path);
}

TEST(BenchCli, ThroughputAcceptsUnderscoreAndEqualsSpellings) {
    const CommandResult run = run_ovllm("",
                                        "bench throughput " + kSmallModel +
                                            " --input_len=8 --output_len 4 --num_prompts=3 --n=2"
                                            " --kv_cache_space 1 --disable_detokenize --seed=3",
                                        false);
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_TRUE(contains(run.out, "Total num prompt tokens:  24\n")) << run.out;
    // n=2: two completions of 4 tokens per prompt.
    EXPECT_TRUE(contains(run.out, "Total num output tokens:  24\n")) << run.out;
}

TEST(BenchCli, ThroughputLogsBlockSizeOverride) {
    const CommandResult run = run_ovllm("",
                                        "bench throughput " + kSmallModel +
                                            " --input-len 4 --output-len 2 --num-prompts 2"
                                            " --kv-cache-space 1 --block-size 16",
                                        true);
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_TRUE(contains(run.out, "OpenVINO optimal block size is 32, overriding currently set 16"))
        << run.out;
}

TEST(BenchCli, LatencyPrintsPercentiles) {
    const auto json_path = temp_json("latency");
    std::filesystem::remove(json_path);
    const CommandResult run =
        run_ovllm("",
                  "bench latency " + kSmallModel +
                      " --input-len 8 --output-len 4 --batch-size 2 --num-iters-warmup 1"
                      " --num-iters 3 --kv-cache-space 1 --output-json " +
                      json_path.string(),
                  false);
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_TRUE(contains(run.out, "Avg latency: ")) << run.out;
    for (const int p : {10, 25, 50, 75, 90, 99}) {
        EXPECT_TRUE(contains(run.out, std::to_string(p) + "% percentile latency: ")) << run.out;
    }
    std::ifstream in(json_path);
    ASSERT_TRUE(in) << json_path;
    const nlohmann::json result = nlohmann::json::parse(in);
    EXPECT_EQ(result.at("latencies").size(), 3u);
    EXPECT_TRUE(result.at("percentiles").contains("99"));
    std::filesystem::remove(json_path);
}

TEST(BenchCli, BadValuesNameTheFlag) {
    const CommandResult zero = run_ovllm(
        "", "bench throughput " + kSmallModel + " --input-len 8 --output-len 4 --num-prompts 0",
        true);
    EXPECT_NE(zero.status, 0);
    EXPECT_TRUE(contains(zero.out, "--num-prompts: must be >= 1 (got 0)")) << zero.out;

    const CommandResult no_len =
        run_ovllm("", "bench throughput " + kSmallModel + " --output-len 4", true);
    EXPECT_NE(no_len.status, 0);
    EXPECT_TRUE(contains(no_len.out, "--input-len: required")) << no_len.out;

    const CommandResult latency =
        run_ovllm("", "bench latency " + kSmallModel + " --batch-size -1", true);
    EXPECT_NE(latency.status, 0);
    EXPECT_TRUE(contains(latency.out, "--batch-size: must be >= 1 (got -1)")) << latency.out;

    const CommandResult env = run_ovllm(
        "VLLM_OPENVINO_CPU_KV_CACHE_PRECISION=u3",
        "bench throughput " + kSmallModel + " --input-len 8 --output-len 4 --num-prompts 1", true);
    EXPECT_NE(env.status, 0);
    EXPECT_TRUE(contains(env.out, "VLLM_OPENVINO_CPU_KV_CACHE_PRECISION")) << env.out;
}

}  // namespace
}  // namespace ovllm::test
