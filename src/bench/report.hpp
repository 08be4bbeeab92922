#pragma once
// What `ovllm bench throughput` and `ovllm bench latency` print and write, in vLLM's words
// and JSON keys, so scripts that parse vLLM's benchmark output keep working.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/llm_engine.hpp"

namespace ovllm::bench {

struct ThroughputResult {
    double elapsed_s = 0.0;
    int64_t num_requests = 0;
    int64_t total_prompt_tokens = 0;
    int64_t total_output_tokens = 0;
};

// "Throughput: 4.84 requests/s, 1244.94 total tokens/s, 620.05 output tokens/s\n"
// "Total num prompt tokens:  N\nTotal num output tokens:  M\n"
std::string format_throughput_report(const ThroughputResult& result);
// {"elapsed_time", "num_requests", "total_num_tokens", "requests_per_second",
//  "tokens_per_second"} indented by 4, in that order.
std::string throughput_json(const ThroughputResult& result);

// numpy.percentile with linear interpolation; `percent` in [0, 100]. Throws ovllm::Error
// on an empty sample.
double percentile(std::vector<double> values, double percent);

inline constexpr int kLatencyPercentages[] = {10, 25, 50, 75, 90, 99};

struct LatencyResult {
    std::vector<double> latencies_s;  // one per timed iteration
};

// "Avg latency: X seconds\n" then "10% percentile latency: X seconds\n" for 10, 25, 50,
// 75, 90 and 99; numbers as Python prints a float (shortest round trip, "1.0").
std::string format_latency_report(const LatencyResult& result);
// {"avg_latency", "latencies", "percentiles": {"10": ..., ..., "99": ...}} indented by 4.
std::string latency_json(const LatencyResult& result);

// "Step time: 120 steps of up to 256 sequences, 41.2 ms/step: model 97.1%, scheduler 0.1%,
// sampler 2.3%, grammar 0.0%, outputs 0.5% (overhead 2.9%)": where the engine's time went.
std::string format_step_times(const engine::EngineStats& stats);

// "SpecDecoding metrics: Mean acceptance length: 2.87, Accepted: 1620 tokens, Drafted: 3460
// tokens, Avg Draft acceptance rate: 46.8%" (vLLM's names; the mean acceptance length counts
// the token each step samples itself). Empty when no step carried drafts.
std::string format_spec_decode(const engine::EngineStats& stats);

// "Operation time: FullyConnected 71.3%, PagedAttentionExtension 19.2%, ...": the `most`
// largest operation types by share of the summed per-node times, then "other". Shares only:
// the plugin's per-node times need not add up to the wall time.
std::string format_op_times(const std::vector<runner::OpTime>& times, size_t most = 6);

// Python's repr of a float: 0.1 -> "0.1", 2.0 -> "2.0", 1e-05 -> "1e-05".
std::string python_float(double value);

// Writes `text` to `path` (the --output-json file); the error names the file.
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace ovllm::bench
