#pragma once
// The client side of `ovllm bench serve`: sends a dataset of prompts to an OpenAI-compatible
// server at a given rate and concurrency, streams the answers, and reports vLLM's serving
// metrics (TTFT, TPOT, ITL, E2EL) in vLLM's printed and JSON forms.
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/dataset.hpp"

namespace ovllm::bench {

struct BenchServeOptions {
    std::string backend = "openai";  // openai (/v1/completions) | openai-chat
    std::string host = "127.0.0.1";
    int port = 8000;
    std::string endpoint;   // empty = /v1/completions or /v1/chat/completions per backend
    std::string model;      // empty = the first model of GET /v1/models
    std::string tokenizer;  // only recorded in the JSON result
    std::string dataset_name = "random";     // random | sharegpt
    std::string dataset_path;                // the ShareGPT JSON file
    std::optional<int> sharegpt_output_len;  // instead of each conversation's reply length
    int random_input_len = 1024;
    int random_output_len = 128;
    double random_range_ratio = 0.0;  // lengths uniform in [len * (1 - r), len * (1 + r)]
    int random_vocab_size = 1000;     // random prompts draw token ids from [0, this)
    int num_prompts = 1000;
    double request_rate = std::numeric_limits<double>::infinity();  // requests/s; inf = all at once
    double burstiness = 1.0;  // gamma shape of the inter-arrival times; 1 = Poisson
    int max_concurrency = 0;  // 0 = unlimited
    bool ignore_eos = false;
    std::string percentile_metrics = "ttft,tpot,itl";  // of ttft, tpot, itl, e2el
    std::string metric_percentiles = "99";
    bool save_result = false;
    std::string result_dir;       // empty = current folder
    std::string result_filename;  // empty = vLLM's default name
    uint64_t seed = 0;
    std::string api_key;  // sent as `Authorization: Bearer`; empty = none
    // Multi-turn chat (openai-chat only): each prompt opens a conversation of this many
    // turns. A turn resends the whole history (the prompt, every answer, and a follow-up
    // user message), so the serving side's prefix cache decides its cost. Turns of one
    // conversation run one after another; conversations run side by side.
    int num_turns = 1;
    // Prometheus endpoints (e.g. each replica's http://host:port/metrics) whose
    // vllm:prefix_cache_{queries,hits}_total are read before and after the run.
    std::vector<std::string> metrics_urls;
};

// The user message that follows each answer in a multi-turn conversation.
inline constexpr const char* kFollowUpMessage = "Please go on.";

// Builds the dataset. The default is vLLM's random dataset (bench/dataset.hpp, the same
// requests `bench throughput` makes for the same seed and vocabulary) as token-id prompts;
// `ovllm bench serve` passes one that turns them into text, or reads ShareGPT, with the
// model's tokenizer. A request with a text `prompt` is sent as text, else as token ids.
using PromptBuilder = std::function<std::vector<BenchRequest>(const BenchServeOptions&)>;
RandomDatasetOptions random_dataset_options(const BenchServeOptions& options, int64_t vocab_size);
std::vector<BenchRequest> random_token_prompts(const BenchServeOptions& options);

struct BenchRequestResult {
    bool success = false;
    std::string error;
    int prompt_len = 0;
    int output_len = 0;       // tokens generated (from usage, else one per streamed chunk)
    double ttft = 0.0;        // seconds
    double latency = 0.0;     // seconds, request sent -> last byte
    std::vector<double> itl;  // seconds between streamed chunks after the first
    std::string generated_text;
};

struct MetricSummary {
    double mean_ms = 0.0, median_ms = 0.0, std_ms = 0.0;
    std::vector<std::pair<double, double>> percentiles_ms;  // (percentile, value)
};

struct BenchServeResult {
    std::string model;
    int completed = 0;
    int failed = 0;
    double duration = 0.0;  // seconds
    int64_t total_input_tokens = 0;
    int64_t total_output_tokens = 0;
    double request_throughput = 0.0;               // req/s
    double output_throughput = 0.0;                // tok/s
    double total_token_throughput = 0.0;           // tok/s
    std::map<std::string, MetricSummary> metrics;  // "ttft", "tpot", "itl", "e2el"
    std::vector<BenchRequestResult> requests;      // in dataset order (turns of a
                                                   // conversation one after another)
    // Prefix-cache token counts over the run, summed over metrics_urls (when given).
    std::optional<double> prefix_cache_queries;
    std::optional<double> prefix_cache_hits;
};

// Sums the samples of `name` (any labels) in a Prometheus text exposition.
double prometheus_counter(const std::string& text, const std::string& name);

// Runs the benchmark. Throws ovllm::Error for bad options or when the server cannot be reached.
BenchServeResult run_bench_serve(const BenchServeOptions& options,
                                 const PromptBuilder& build_prompts = {});
// vLLM's "Serving Benchmark Result" block, for the selected metrics and percentiles.
std::string format_bench_serve_result(const BenchServeResult& result,
                                      const BenchServeOptions& options);
// The --save-result JSON with vLLM's keys.
nlohmann::json bench_serve_result_json(const BenchServeResult& result,
                                       const BenchServeOptions& options);
// Writes the JSON under result_dir; returns the path written.
std::string save_bench_serve_result(const BenchServeResult& result,
                                    const BenchServeOptions& options);

// Summary of `values` (seconds) in milliseconds; percentiles as bench::percentile (numpy's).
MetricSummary summarize_ms(std::vector<double> values, const std::vector<double>& percentiles);

}  // namespace ovllm::bench
