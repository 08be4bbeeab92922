// The serving benchmark client (bench/serve_client.hpp) against the fake-engine server.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "bench/bench_options.hpp"
#include "bench/serve_client.hpp"
#include "server/server_fixture.hpp"
#include "util/error.hpp"

namespace ovllm::bench::test {
namespace {

using nlohmann::json;
using server::GenerateRequest;
using server::test::ServerTest;

class BenchServeTest : public ServerTest {
  protected:
    BenchServeOptions options() const {
        BenchServeOptions options;
        options.port = port_;
        options.num_prompts = 20;
        options.random_input_len = 8;
        options.random_output_len = 5;
        options.random_vocab_size = 250;  // inside the fake engine's vocabulary
        options.max_concurrency = 4;
        return options;
    }
};

TEST_F(BenchServeTest, RandomTokenPromptsEndToEnd) {
    const BenchServeOptions opts = options();
    const BenchServeResult result = run_bench_serve(opts);
    EXPECT_EQ(result.model, "fake-model");
    EXPECT_EQ(result.completed, 20);
    EXPECT_EQ(result.failed, 0);
    EXPECT_EQ(result.total_input_tokens, 20 * 8);
    EXPECT_EQ(result.total_output_tokens, 20 * 5);
    EXPECT_GT(result.duration, 0.0);
    EXPECT_DOUBLE_EQ(result.output_throughput, 100.0 / result.duration);
    EXPECT_DOUBLE_EQ(result.total_token_throughput, 260.0 / result.duration);
    ASSERT_EQ(result.requests.size(), 20u);
    for (const BenchRequestResult& request : result.requests) {
        EXPECT_TRUE(request.success) << request.error;
        EXPECT_EQ(request.generated_text, "abcde");
        EXPECT_EQ(request.itl.size(), 4u);
        EXPECT_GT(request.ttft, 0.0);
        EXPECT_GE(request.latency, request.ttft);
    }
    EXPECT_LE(engine_->peak_active.load(), 4u);
    // The server got exactly the dataset's token ids, as token-id prompts.
    const auto prompts = random_token_prompts(opts);
    std::multiset<std::vector<int64_t>> expected, seen;
    for (const BenchRequest& prompt : prompts) {
        expected.insert(
            std::vector<int64_t>(prompt.prompt_token_ids.begin(), prompt.prompt_token_ids.end()));
    }
    for (const GenerateRequest& request : engine_->submitted()) {
        seen.insert(request.prompt_token_ids);
        EXPECT_EQ(request.params.max_tokens, 5);
        EXPECT_EQ(request.params.temperature, 0.0f);
    }
    EXPECT_EQ(seen, expected);
}

TEST_F(BenchServeTest, PrintsVllmResultBlock) {
    BenchServeOptions opts = options();
    opts.percentile_metrics = "ttft,tpot,itl,e2el";
    opts.metric_percentiles = "50,99.9";
    const BenchServeResult result = run_bench_serve(opts);
    const std::string text = format_bench_serve_result(result, opts);
    EXPECT_EQ(text.rfind("============ Serving Benchmark Result ============\n", 0), 0u) << text;
    EXPECT_NE(text.find("Successful requests:                     20        \n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("Failed requests:                         0         \n"),
              std::string::npos);
    EXPECT_NE(text.find("Maximum request concurrency:             4         \n"),
              std::string::npos);
    EXPECT_NE(text.find("Total input tokens:                      160       \n"),
              std::string::npos);
    EXPECT_NE(text.find("Total generated tokens:                  100       \n"),
              std::string::npos);
    for (const char* header : {"---------------Time to First Token----------------\n",
                               "-----Time per Output Token (excl. 1st token)------\n",
                               "---------------Inter-token Latency----------------\n",
                               "----------------End-to-end Latency----------------\n"}) {
        EXPECT_NE(text.find(header), std::string::npos) << header;
    }
    for (const char* name :
         {"Mean TTFT (ms):", "Median TPOT (ms):", "P50 ITL (ms):", "P99.9 E2EL (ms):",
          "Request throughput (req/s):", "Output token throughput (tok/s):",
          "Total Token throughput (tok/s):", "Benchmark duration (s):"}) {
        EXPECT_NE(text.find(name), std::string::npos) << name;
    }
    EXPECT_EQ(text.substr(text.size() - 51), std::string(50, '=') + "\n");
}

TEST_F(BenchServeTest, SavesJsonWithVllmKeys) {
    BenchServeOptions opts = options();
    opts.request_rate = 2000.0;  // Poisson arrivals
    opts.result_dir =
        (std::filesystem::temp_directory_path() / ("ovllm_bench_" + std::to_string(port_)))
            .string();
    const BenchServeResult result = run_bench_serve(opts);
    const std::string path = save_bench_serve_result(result, opts);
    EXPECT_EQ(std::filesystem::path(path).filename().string().rfind(
                  "openai-2000qps-concurrency4-fake-model-", 0),
              0u)
        << path;
    std::ifstream file(path);
    const json saved = json::parse(file);
    for (const char* key : {"date",
                            "backend",
                            "model_id",
                            "tokenizer_id",
                            "num_prompts",
                            "request_rate",
                            "burstiness",
                            "max_concurrency",
                            "duration",
                            "completed",
                            "total_input_tokens",
                            "total_output_tokens",
                            "request_throughput",
                            "output_throughput",
                            "total_token_throughput",
                            "input_lens",
                            "output_lens",
                            "ttfts",
                            "itls",
                            "generated_texts",
                            "errors",
                            "mean_ttft_ms",
                            "median_ttft_ms",
                            "std_ttft_ms",
                            "p99_ttft_ms",
                            "mean_tpot_ms",
                            "p99_tpot_ms",
                            "mean_itl_ms",
                            "p99_itl_ms"}) {
        EXPECT_TRUE(saved.contains(key)) << key;
    }
    EXPECT_EQ(saved["completed"], 20);
    EXPECT_EQ(saved["request_rate"], 2000.0);
    EXPECT_EQ(saved["max_concurrency"], 4);
    EXPECT_EQ(saved["input_lens"].size(), 20u);
    EXPECT_EQ(saved["itls"][0].size(), 4u);
    std::filesystem::remove_all(opts.result_dir);
}

TEST_F(BenchServeTest, ChatBackendWithTextPrompts) {
    BenchServeOptions opts = options();
    opts.backend = "openai-chat";
    opts.num_prompts = 6;
    opts.max_concurrency = 0;
    const auto builder = [](const BenchServeOptions& o) {
        std::vector<BenchRequest> prompts;
        for (int i = 0; i < o.num_prompts; ++i) prompts.push_back({"Hi", {}, 2, 3});
        return prompts;
    };
    const BenchServeResult result = run_bench_serve(opts, builder);
    EXPECT_EQ(result.completed, 6);
    EXPECT_EQ(result.total_output_tokens, 18);
    for (const BenchRequestResult& request : result.requests) {
        EXPECT_EQ(request.generated_text, "abc");
    }
    EXPECT_EQ(engine_->last_chat().messages[0]["content"], "Hi");
}

TEST_F(BenchServeTest, MultiTurnResendsTheHistoryAndReadsThePrefixCacheHitRate) {
    BenchServeOptions opts = options();
    opts.backend = "openai-chat";
    opts.num_prompts = 3;
    opts.num_turns = 3;
    opts.max_concurrency = 2;
    opts.metrics_urls = {"http://127.0.0.1:" + std::to_string(port_) + "/metrics"};
    const auto builder = [](const BenchServeOptions& o) {
        std::vector<BenchRequest> prompts;
        for (int i = 0; i < o.num_prompts; ++i)
            prompts.push_back({"Topic " + std::to_string(i), {}, 2, 3});
        return prompts;
    };
    const BenchServeResult result = run_bench_serve(opts, builder);
    EXPECT_EQ(result.completed, 9);
    ASSERT_EQ(result.requests.size(), 9u);
    // Each turn sends the conversation so far: prompt, then (answer, follow-up) per turn.
    std::map<std::string, std::vector<size_t>> lengths_by_topic;
    const auto chats = engine_->chats();
    ASSERT_EQ(chats.size(), 9u);
    for (const server::ChatTemplateRequest& chat : chats) {
        const json& messages = chat.messages;
        ASSERT_EQ(messages.size() % 2, 1u);
        for (size_t m = 1; m < messages.size(); m += 2) {
            EXPECT_EQ(messages[m]["role"], "assistant");
            EXPECT_EQ(messages[m]["content"], "abc");  // the fake engine's answer
            EXPECT_EQ(messages[m + 1]["content"], kFollowUpMessage);
        }
        lengths_by_topic[messages[0]["content"].get<std::string>()].push_back(messages.size());
    }
    ASSERT_EQ(lengths_by_topic.size(), 3u);
    for (auto& [topic, lengths] : lengths_by_topic) {
        std::sort(lengths.begin(), lengths.end());
        EXPECT_EQ(lengths, (std::vector<size_t>{1, 3, 5})) << topic;
    }
    // The fake engine's counters grow by 10 queries and 4 hits per request.
    ASSERT_TRUE(result.prefix_cache_queries && result.prefix_cache_hits);
    EXPECT_DOUBLE_EQ(*result.prefix_cache_queries, 90.0);
    EXPECT_DOUBLE_EQ(*result.prefix_cache_hits, 36.0);
    EXPECT_NE(format_bench_serve_result(result, opts)
                  .find("Prefix cache hit rate (%):               40.00"),
              std::string::npos);
}

TEST(BenchServe, PrometheusCounterSumsLabelledSamplesOfThatNameOnly) {
    const std::string text =
        "# TYPE vllm:prefix_cache_hits_total counter\n"
        "vllm:prefix_cache_hits_total{model_name=\"a\"} 3.0\n"
        "vllm:prefix_cache_hits_total{model_name=\"b\"} 4\n"
        "vllm:prefix_cache_hits_total_created 17.0\n";
    EXPECT_DOUBLE_EQ(prometheus_counter(text, "vllm:prefix_cache_hits_total"), 7.0);
    EXPECT_DOUBLE_EQ(prometheus_counter(text, "vllm:prefix_cache_queries_total"), 0.0);
}

TEST_F(BenchServeTest, RejectedRequestsCountAsFailed) {
    BenchServeOptions opts = options();
    opts.random_vocab_size = 100000;  // ids the fake engine's vocabulary does not have
    opts.random_input_len = 50;
    const BenchServeResult result = run_bench_serve(opts);
    EXPECT_EQ(result.completed, 0);
    EXPECT_EQ(result.failed, 20);
    EXPECT_NE(result.requests[0].error.find("HTTP 400"), std::string::npos)
        << result.requests[0].error;
}

// `bench serve` and `bench throughput` make the same random prompts for the same --seed.
TEST(BenchServe, SameSeedSamePromptsAsBenchThroughput) {
    BenchServeOptions serve;
    serve.seed = 7;
    serve.num_prompts = 5;
    serve.random_input_len = 12;
    serve.random_output_len = 4;
    serve.random_range_ratio = 0.5;
    serve.random_vocab_size = 500;
    ThroughputOptions throughput;
    throughput.engine.seed = 7;
    throughput.num_prompts = 5;
    throughput.input_len = 12;
    throughput.output_len = 4;
    throughput.random_range_ratio = 0.5;
    const auto served = random_token_prompts(serve);
    const auto offline = random_requests(bench::random_dataset_options(throughput, 500));
    ASSERT_EQ(served.size(), 5u);
    ASSERT_EQ(offline.size(), 5u);
    for (size_t i = 0; i < served.size(); ++i) {
        EXPECT_EQ(served[i].prompt_token_ids, offline[i].prompt_token_ids) << i;
        EXPECT_EQ(served[i].output_len, offline[i].output_len) << i;
    }
}

TEST(BenchServe, SummaryMatchesNumpyDefinitions) {
    const MetricSummary summary = summarize_ms({4.0, 1.0, 3.0, 2.0}, {99.0, 50.0});
    EXPECT_DOUBLE_EQ(summary.mean_ms, 2500.0);
    EXPECT_DOUBLE_EQ(summary.median_ms, 2500.0);
    EXPECT_NEAR(summary.std_ms, 1118.033988749895, 1e-9);
    ASSERT_EQ(summary.percentiles_ms.size(), 2u);
    EXPECT_NEAR(summary.percentiles_ms[0].second, 3970.0, 1e-9);
    EXPECT_NEAR(summary.percentiles_ms[1].second, 2500.0, 1e-9);
}

TEST(BenchServe, BadOptionsAreErrors) {
    BenchServeOptions options;
    options.model = "m";
    options.backend = "tgi";
    EXPECT_THROW(run_bench_serve(options), Error);
    options.backend = "openai";
    options.percentile_metrics = "ttft,bogus";
    EXPECT_THROW(run_bench_serve(options), Error);
    options.percentile_metrics = "ttft";
    options.metric_percentiles = "101";
    EXPECT_THROW(run_bench_serve(options), Error);
    options.metric_percentiles = "99";
    options.dataset_name = "sharegpt";
    EXPECT_THROW(run_bench_serve(options), Error);
}

}  // namespace
}  // namespace ovllm::bench::test
