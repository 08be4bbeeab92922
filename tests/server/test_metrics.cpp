// Prometheus text format: structure, escaping, histograms, and counters moving over HTTP.
#include <fmt/format.h>
#include <map>
#include <sstream>

#include "server/metrics.hpp"
#include "server_fixture.hpp"

namespace ovllm::server::test {
namespace {

// "name{labels}" -> value, for every sample line; HELP/TYPE lines are checked separately.
struct Exposition {
    std::map<std::string, double> samples;
    std::map<std::string, std::string> types;  // family -> type
    std::map<std::string, int> helps;          // family -> count of HELP lines
};

Exposition parse_exposition(const std::string& text) {
    Exposition result;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty()) continue;
        if (line.rfind("# HELP ", 0) == 0) {
            const std::string rest = line.substr(7);
            ++result.helps[rest.substr(0, rest.find(' '))];
        } else if (line.rfind("# TYPE ", 0) == 0) {
            const std::string rest = line.substr(7);
            const size_t space = rest.find(' ');
            result.types[rest.substr(0, space)] = rest.substr(space + 1);
        } else {
            const size_t space = line.rfind(' ');
            result.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
        }
    }
    return result;
}

TEST(Metrics, HistogramBucketsAreCumulativeAndInclusive) {
    Histogram histogram({0.1, 1.0});
    histogram.observe(0.1);  // on the bound: belongs to le="0.1"
    histogram.observe(0.5);
    histogram.observe(5.0);
    EXPECT_EQ(histogram.cumulative_counts(), (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_DOUBLE_EQ(histogram.sum(), 5.6);
    EXPECT_EQ(histogram.count(), 3u);
}

TEST(Metrics, VllmBucketBoundaries) {
    EXPECT_EQ(ttft_buckets().size(), 22u);
    EXPECT_DOUBLE_EQ(ttft_buckets().front(), 0.001);
    EXPECT_DOUBLE_EQ(ttft_buckets().back(), 2560.0);
    EXPECT_EQ(inter_token_latency_buckets().size(), 19u);
    EXPECT_DOUBLE_EQ(inter_token_latency_buckets().front(), 0.01);
    EXPECT_DOUBLE_EQ(inter_token_latency_buckets().back(), 80.0);
    EXPECT_EQ(e2e_latency_buckets().size(), 21u);
    EXPECT_DOUBLE_EQ(e2e_latency_buckets().front(), 0.3);
    EXPECT_DOUBLE_EQ(e2e_latency_buckets().back(), 7680.0);
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
    EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    EXPECT_EQ(escape_help("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
    ServerMetrics metrics("we\"ird\nname");
    const std::string text = metrics.render({});
    EXPECT_NE(text.find("vllm:num_requests_running{model_name=\"we\\\"ird\\nname\"} 0\n"),
              std::string::npos)
        << text;
}

TEST(Metrics, RenderHasEveryFamilyWithHelpAndType) {
    ServerMetrics metrics("m");
    metrics.record_first_token(0.05);
    metrics.record_inter_token(0.02, 2);
    metrics.record_finished({"length", 10, 3, 0.4});
    metrics.record_finished({"stop", 5, 1, 2.0});
    metrics.record_finished({"weird", 0, 0, 0.1});  // counted as abort
    EngineSnapshot stats;
    stats.num_running = 3;
    stats.num_waiting = 1;
    stats.kv_cache_usage = 0.5;
    stats.prefix_cache_queries = 7;
    stats.prefix_cache_hits = 6;
    stats.num_preemptions = 4;
    stats.spec_num_drafts = 9;
    stats.spec_draft_tokens = 36;
    stats.spec_accepted_tokens = 20;
    const Exposition e = parse_exposition(metrics.render(stats));
    const std::map<std::string, std::string> families = {
        {"vllm:num_requests_running", "gauge"},
        {"vllm:num_requests_waiting", "gauge"},
        {"vllm:kv_cache_usage_perc", "gauge"},
        {"vllm:prompt_tokens_total", "counter"},
        {"vllm:generation_tokens_total", "counter"},
        {"vllm:num_preemptions_total", "counter"},
        {"vllm:request_success_total", "counter"},
        {"vllm:prefix_cache_queries_total", "counter"},
        {"vllm:prefix_cache_hits_total", "counter"},
        {"vllm:spec_decode_num_drafts_total", "counter"},
        {"vllm:spec_decode_num_draft_tokens_total", "counter"},
        {"vllm:spec_decode_num_accepted_tokens_total", "counter"},
        {"vllm:time_to_first_token_seconds", "histogram"},
        {"vllm:inter_token_latency_seconds", "histogram"},
        {"vllm:e2e_request_latency_seconds", "histogram"}};
    EXPECT_EQ(e.types, families);
    for (const auto& [family, type] : families) EXPECT_EQ(e.helps.at(family), 1) << family;
    const std::string m = "{model_name=\"m\"}";
    EXPECT_EQ(e.samples.at("vllm:num_requests_running" + m), 3);
    EXPECT_EQ(e.samples.at("vllm:num_requests_waiting" + m), 1);
    EXPECT_EQ(e.samples.at("vllm:kv_cache_usage_perc" + m), 0.5);
    EXPECT_EQ(e.samples.at("vllm:prefix_cache_queries_total" + m), 7);
    EXPECT_EQ(e.samples.at("vllm:prefix_cache_hits_total" + m), 6);
    EXPECT_EQ(e.samples.at("vllm:num_preemptions_total" + m), 4);
    EXPECT_EQ(e.samples.at("vllm:spec_decode_num_drafts_total" + m), 9);
    EXPECT_EQ(e.samples.at("vllm:spec_decode_num_draft_tokens_total" + m), 36);
    EXPECT_EQ(e.samples.at("vllm:spec_decode_num_accepted_tokens_total" + m), 20);
    EXPECT_EQ(e.samples.at("vllm:prompt_tokens_total" + m), 15);
    EXPECT_EQ(e.samples.at("vllm:generation_tokens_total" + m), 4);
    for (const auto& [reason, count] :
         std::map<std::string, double>{{"stop", 1}, {"length", 1}, {"abort", 1}}) {
        EXPECT_EQ(e.samples.at("vllm:request_success_total{model_name=\"m\",finished_reason=\"" +
                               reason + "\"}"),
                  count);
    }
    EXPECT_EQ(e.samples.at("vllm:time_to_first_token_seconds_count" + m), 1);
    EXPECT_EQ(e.samples.at("vllm:time_to_first_token_seconds_bucket{model_name=\"m\",le=\"0.04\"}"),
              0);
    EXPECT_EQ(e.samples.at("vllm:time_to_first_token_seconds_bucket{model_name=\"m\",le=\"0.06\"}"),
              1);
    EXPECT_EQ(e.samples.at("vllm:inter_token_latency_seconds_count" + m), 2);
    EXPECT_DOUBLE_EQ(e.samples.at("vllm:inter_token_latency_seconds_sum" + m), 0.02);
    EXPECT_EQ(e.samples.at("vllm:e2e_request_latency_seconds_count" + m), 3);
    EXPECT_EQ(e.samples.at("vllm:e2e_request_latency_seconds_bucket{model_name=\"m\",le=\"+Inf\"}"),
              3);
    EXPECT_EQ(e.samples.at("vllm:e2e_request_latency_seconds_bucket{model_name=\"m\",le=\"0.3\"}"),
              1);
}

TEST_F(ServerTest, MetricsEndpointCountersMove) {
    auto scrape = [this] {
        const auto result = get("/metrics");
        EXPECT_TRUE(result);
        EXPECT_EQ(result->status, 200);
        EXPECT_EQ(result->get_header_value("Content-Type"),
                  "text/plain; version=0.0.4; charset=utf-8");
        return parse_exposition(result->body);
    };
    const std::string m = "{model_name=\"fake-model\"}";
    Exposition before = scrape();
    EXPECT_EQ(before.samples.at("vllm:prompt_tokens_total" + m), 0);
    EXPECT_EQ(before.samples.at("vllm:kv_cache_usage_perc" + m), 0.25);

    ASSERT_EQ(post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 5}})->status, 200);
    ASSERT_EQ(
        post("/v1/completions", json{{"prompt", "Hi"}, {"stop", "b"}, {"stream", true}})->status,
        200);
    const Exposition after = scrape();
    EXPECT_EQ(after.samples.at("vllm:prompt_tokens_total" + m), 6);
    EXPECT_EQ(after.samples.at("vllm:generation_tokens_total" + m), 7);
    EXPECT_EQ(
        after.samples.at(
            "vllm:request_success_total{model_name=\"fake-model\",finished_reason=\"length\"}"),
        1);
    EXPECT_EQ(after.samples.at(
                  "vllm:request_success_total{model_name=\"fake-model\",finished_reason=\"stop\"}"),
              1);
    EXPECT_EQ(after.samples.at("vllm:time_to_first_token_seconds_count" + m), 2);
    EXPECT_EQ(after.samples.at("vllm:e2e_request_latency_seconds_count" + m), 2);
    EXPECT_EQ(after.samples.at("vllm:inter_token_latency_seconds_count" + m), 4 + 1);
    // Buckets never decrease and +Inf equals the count.
    double previous = 0;
    for (const double bound : ttft_buckets()) {
        const double value = after.samples.at(
            fmt::format("vllm:time_to_first_token_seconds_bucket{{model_name=\"fake-model\","
                        "le=\"{}\"}}",
                        bound));
        EXPECT_GE(value, previous);
        previous = value;
    }
    EXPECT_EQ(after.samples.at(
                  "vllm:time_to_first_token_seconds_bucket{model_name=\"fake-model\",le=\"+Inf\"}"),
              2);
}

}  // namespace
}  // namespace ovllm::server::test
