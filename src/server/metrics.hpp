#pragma once
// Server metrics in Prometheus text exposition format 0.0.4, under vLLM's metric names so
// existing dashboards work. Thread-safe: handlers record, /metrics renders.
#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/engine_client.hpp"

namespace ovllm::server {

// A cumulative histogram with fixed upper bounds (seconds); +Inf is implicit.
class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);
    const std::vector<double>& bounds() const { return bounds_; }
    // counts()[i] = observations <= bounds()[i]; the last entry is the +Inf bucket.
    std::vector<uint64_t> cumulative_counts() const;
    double sum() const { return sum_; }
    uint64_t count() const { return count_; }

  private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket, not cumulative; bounds_.size() + 1 entries
    double sum_ = 0.0;
    uint64_t count_ = 0;
};

// vLLM's bucket boundaries, in seconds.
std::span<const double> ttft_buckets();
std::span<const double> inter_token_latency_buckets();
std::span<const double> e2e_latency_buckets();

// Escapes a label value (backslash, double quote, newline) for the text format.
std::string escape_label_value(std::string_view value);
// Escapes HELP text (backslash, newline).
std::string escape_help(std::string_view text);

class ServerMetrics {
  public:
    explicit ServerMetrics(std::string model_name);

    // One request ended. finish_reason is "stop", "length" or "abort" (others count as abort).
    struct FinishedRequest {
        std::string finish_reason;
        int prompt_tokens = 0;
        int generation_tokens = 0;
        double e2e_seconds = 0.0;
    };
    void record_first_token(double ttft_seconds);
    // Latency between two consecutive outputs, spread over the `tokens` they carried.
    void record_inter_token(double seconds, int tokens);
    void record_finished(const FinishedRequest& request);

    // The whole exposition; gauges and engine-side counters come from `stats`.
    std::string render(const EngineSnapshot& stats) const;

  private:
    std::string model_label_;  // `model_name="..."`, already escaped
    mutable std::mutex mutex_;
    uint64_t prompt_tokens_ = 0;
    uint64_t generation_tokens_ = 0;
    std::array<uint64_t, 3> success_ = {};  // stop, length, abort
    Histogram ttft_;
    Histogram itl_;
    Histogram e2e_;
};

}  // namespace ovllm::server
