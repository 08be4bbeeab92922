#include "server/metrics.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ovllm::server {

namespace {

constexpr std::array kTtftBuckets = {0.001, 0.005, 0.01, 0.02,  0.04,  0.06,  0.08, 0.1,
                                     0.25,  0.5,   0.75, 1.0,   2.5,   5.0,   7.5,  10.0,
                                     20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};
constexpr std::array kItlBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,  0.3,  0.4, 0.5,
                                    0.75, 1.0,   2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};
constexpr std::array kE2eBuckets = {0.3,  0.5,   0.8,   1.0,   1.5,   2.0,    2.5,
                                    5.0,  10.0,  15.0,  20.0,  30.0,  40.0,   50.0,
                                    60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
constexpr std::array<std::string_view, 3> kFinishReasons = {"stop", "length", "abort"};

// Prometheus floats: integers without a fraction, others in shortest round-trip form.
std::string number(double value) {
    return fmt::format("{}", value);
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help),
                   name, type);
}

void sample(std::string& out, std::string_view name, std::string_view labels, double value) {
    fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, number(value));
}

void histogram(std::string& out, std::string_view name, std::string_view help,
               std::string_view labels, const Histogram& h) {
    header(out, name, "histogram", help);
    const auto counts = h.cumulative_counts();
    for (size_t i = 0; i < counts.size(); ++i) {
        const std::string le = i < h.bounds().size() ? number(h.bounds()[i]) : "+Inf";
        fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, le,
                       counts[i]);
    }
    fmt::format_to(std::back_inserter(out), "{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name, labels,
                   number(h.sum()), name, labels, h.count());
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    // A value equal to a bound belongs to that bucket (le = "less or equal").
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++counts_[static_cast<size_t>(it - bounds_.begin())];
    sum_ += value;
    ++count_;
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
    std::vector<uint64_t> cumulative(counts_.size());
    uint64_t running = 0;
    for (size_t i = 0; i < counts_.size(); ++i) cumulative[i] = running += counts_[i];
    return cumulative;
}

std::span<const double> ttft_buckets() {
    return kTtftBuckets;
}
std::span<const double> inter_token_latency_buckets() {
    return kItlBuckets;
}
std::span<const double> e2e_latency_buckets() {
    return kE2eBuckets;
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escape_help(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

ServerMetrics::ServerMetrics(std::string model_name)
    : model_label_(fmt::format("model_name=\"{}\"", escape_label_value(model_name))),
      ttft_({kTtftBuckets.begin(), kTtftBuckets.end()}),
      itl_({kItlBuckets.begin(), kItlBuckets.end()}),
      e2e_({kE2eBuckets.begin(), kE2eBuckets.end()}) {}

void ServerMetrics::record_first_token(double ttft_seconds) {
    const std::lock_guard lock(mutex_);
    ttft_.observe(ttft_seconds);
}

void ServerMetrics::record_inter_token(double seconds, int tokens) {
    if (tokens <= 0) return;
    const std::lock_guard lock(mutex_);
    const double per_token = seconds / tokens;
    for (int i = 0; i < tokens; ++i) itl_.observe(per_token);
}

void ServerMetrics::record_finished(const FinishedRequest& request) {
    const auto reason =
        std::find(kFinishReasons.begin(), kFinishReasons.end(), request.finish_reason);
    const size_t slot =
        reason == kFinishReasons.end() ? 2 : size_t(reason - kFinishReasons.begin());
    const std::lock_guard lock(mutex_);
    prompt_tokens_ += static_cast<uint64_t>(std::max(request.prompt_tokens, 0));
    generation_tokens_ += static_cast<uint64_t>(std::max(request.generation_tokens, 0));
    ++success_[slot];
    e2e_.observe(request.e2e_seconds);
}

std::string ServerMetrics::render(const EngineSnapshot& stats) const {
    std::string out;
    out.reserve(8192);
    const std::string_view labels = model_label_;
    header(out, "vllm:num_requests_running", "gauge",
           "Number of requests in model execution batches.");
    sample(out, "vllm:num_requests_running", labels, stats.num_running);
    header(out, "vllm:num_requests_waiting", "gauge",
           "Number of requests waiting to be processed.");
    sample(out, "vllm:num_requests_waiting", labels, stats.num_waiting);
    header(out, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.");
    sample(out, "vllm:kv_cache_usage_perc", labels, stats.kv_cache_usage);
    header(out, "vllm:num_preemptions_total", "counter", "Cumulative number of preemptions.");
    sample(out, "vllm:num_preemptions_total", labels, double(stats.num_preemptions));
    header(out, "vllm:prefix_cache_queries_total", "counter",
           "Prefix cache queries, in terms of number of queried tokens.");
    sample(out, "vllm:prefix_cache_queries_total", labels, double(stats.prefix_cache_queries));
    header(out, "vllm:prefix_cache_hits_total", "counter",
           "Prefix cache hits, in terms of number of cached tokens.");
    sample(out, "vllm:prefix_cache_hits_total", labels, double(stats.prefix_cache_hits));
    header(out, "vllm:spec_decode_num_drafts_total", "counter",
           "Number of spec decoding drafts (sequence steps that carried drafts).");
    sample(out, "vllm:spec_decode_num_drafts_total", labels, double(stats.spec_num_drafts));
    header(out, "vllm:spec_decode_num_draft_tokens_total", "counter", "Number of draft tokens.");
    sample(out, "vllm:spec_decode_num_draft_tokens_total", labels, double(stats.spec_draft_tokens));
    header(out, "vllm:spec_decode_num_accepted_tokens_total", "counter",
           "Number of accepted tokens.");
    sample(out, "vllm:spec_decode_num_accepted_tokens_total", labels,
           double(stats.spec_accepted_tokens));

    const std::lock_guard lock(mutex_);
    header(out, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
    sample(out, "vllm:prompt_tokens_total", labels, double(prompt_tokens_));
    header(out, "vllm:generation_tokens_total", "counter",
           "Number of generation tokens processed.");
    sample(out, "vllm:generation_tokens_total", labels, double(generation_tokens_));
    header(out, "vllm:request_success_total", "counter",
           "Count of successfully processed requests.");
    for (size_t i = 0; i < kFinishReasons.size(); ++i) {
        sample(out, "vllm:request_success_total",
               fmt::format("{},finished_reason=\"{}\"", labels, kFinishReasons[i]),
               double(success_[i]));
    }
    histogram(out, "vllm:time_to_first_token_seconds",
              "Histogram of time to first token in seconds.", labels, ttft_);
    histogram(out, "vllm:inter_token_latency_seconds",
              "Histogram of inter-token latency in seconds.", labels, itl_);
    histogram(out, "vllm:e2e_request_latency_seconds",
              "Histogram of e2e request latency in seconds.", labels, e2e_);
    return out;
}

}  // namespace ovllm::server
