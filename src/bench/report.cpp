#include "bench/report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace ovllm::bench {
namespace {

// numpy's pairwise summation (8 accumulators per block of up to 128 values), so that
// "Avg latency" prints the very digits vLLM's np.mean would.
double pairwise_sum(const double* values, size_t count) {
    constexpr size_t kBlock = 128;
    constexpr size_t kLanes = 8;
    if (count < kLanes) {
        double sum = 0.0;
        for (size_t i = 0; i < count; ++i) sum += values[i];
        return sum;
    }
    if (count <= kBlock) {
        double lanes[kLanes];
        for (size_t j = 0; j < kLanes; ++j) lanes[j] = values[j];
        size_t i = kLanes;
        for (; i < count - count % kLanes; i += kLanes) {
            for (size_t j = 0; j < kLanes; ++j) lanes[j] += values[i + j];
        }
        double sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                     ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        for (; i < count; ++i) sum += values[i];
        return sum;
    }
    size_t half = count / 2;
    half -= half % kLanes;
    return pairwise_sum(values, half) + pairwise_sum(values + half, count - half);
}

double mean(const std::vector<double>& values) {
    if (values.empty()) throw_error("latency: no iterations were timed");
    return pairwise_sum(values.data(), values.size()) / static_cast<double>(values.size());
}

double per_second(double amount, double elapsed_s) {
    if (!(elapsed_s > 0.0))
        throw_error("throughput: elapsed time must be > 0 s (got {})", elapsed_s);
    return amount / elapsed_s;
}

}  // namespace

std::string format_throughput_report(const ThroughputResult& result) {
    const auto total_tokens = result.total_prompt_tokens + result.total_output_tokens;
    return fmt::format(
        "Throughput: {:.2f} requests/s, {:.2f} total tokens/s, {:.2f} output tokens/s\n"
        "Total num prompt tokens:  {}\n"
        "Total num output tokens:  {}\n",
        per_second(static_cast<double>(result.num_requests), result.elapsed_s),
        per_second(static_cast<double>(total_tokens), result.elapsed_s),
        per_second(static_cast<double>(result.total_output_tokens), result.elapsed_s),
        result.total_prompt_tokens, result.total_output_tokens);
}

std::string throughput_json(const ThroughputResult& result) {
    const auto total_tokens = result.total_prompt_tokens + result.total_output_tokens;
    nlohmann::ordered_json json;
    json["elapsed_time"] = result.elapsed_s;
    json["num_requests"] = result.num_requests;
    json["total_num_tokens"] = total_tokens;
    json["requests_per_second"] =
        per_second(static_cast<double>(result.num_requests), result.elapsed_s);
    json["tokens_per_second"] = per_second(static_cast<double>(total_tokens), result.elapsed_s);
    return json.dump(4);
}

double percentile(std::vector<double> values, double percent) {
    if (values.empty()) throw_error("percentile of an empty sample");
    std::sort(values.begin(), values.end());
    const double rank = percent / 100.0 * static_cast<double>(values.size() - 1);
    const size_t below = static_cast<size_t>(std::floor(rank));
    const size_t above = std::min(below + 1, values.size() - 1);
    const double weight = rank - static_cast<double>(below);
    const double low = values[below];
    const double high = values[above];
    // numpy interpolates from the nearer end, which decides the last bit.
    if (weight >= 0.5) return high - (high - low) * (1.0 - weight);
    return low + (high - low) * weight;
}

std::string format_latency_report(const LatencyResult& result) {
    std::string text =
        fmt::format("Avg latency: {} seconds\n", python_float(mean(result.latencies_s)));
    for (const int percent : kLatencyPercentages) {
        text += fmt::format("{}% percentile latency: {} seconds\n", percent,
                            python_float(percentile(result.latencies_s, percent)));
    }
    return text;
}

std::string latency_json(const LatencyResult& result) {
    nlohmann::ordered_json json;
    json["avg_latency"] = mean(result.latencies_s);
    json["latencies"] = result.latencies_s;
    nlohmann::ordered_json percentiles = nlohmann::ordered_json::object();
    for (const int percent : kLatencyPercentages) {
        percentiles[std::to_string(percent)] = percentile(result.latencies_s, percent);
    }
    json["percentiles"] = std::move(percentiles);
    return json.dump(4);
}

std::string python_float(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    std::string text = fmt::format("{}", value);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream file(path);
    if (!file) throw_error("{}: cannot open for writing", path.string());
    file << text;
    if (!file) throw_error("{}: write failed", path.string());
}

std::string format_step_times(const engine::EngineStats& stats) {
    const engine::StepTimes& t = stats.step_times;
    const double total = t.total();
    if (stats.num_steps == 0 || total <= 0.0) return "Step time: no steps ran";
    auto percent = [total](double part) { return 100.0 * part / total; };
    return fmt::format(
        "Step time: {} steps of up to {} sequences, {:.2f} ms/step: model {:.1f}%, scheduler "
        "{:.1f}%, sampler {:.1f}%, grammar {:.1f}%, outputs {:.1f}% (overhead {:.1f}%)",
        stats.num_steps, stats.max_step_sequences, 1e3 * total / double(stats.num_steps),
        percent(t.model), percent(t.schedule), percent(t.sample), percent(t.grammar),
        percent(t.outputs), percent(total - t.model));
}

std::string format_spec_decode(const engine::EngineStats& stats) {
    if (stats.spec_num_drafts == 0) return {};
    const auto accepted = static_cast<double>(stats.spec_accepted_tokens);
    return fmt::format(
        "SpecDecoding metrics: Mean acceptance length: {:.2f}, Accepted: {} tokens, Drafted: {} "
        "tokens, Avg Draft acceptance rate: {:.1f}%",
        1.0 + accepted / static_cast<double>(stats.spec_num_drafts), stats.spec_accepted_tokens,
        stats.spec_draft_tokens,
        100.0 * accepted / static_cast<double>(std::max<uint64_t>(stats.spec_draft_tokens, 1)));
}

std::string format_op_times(const std::vector<runner::OpTime>& times, size_t most) {
    double total = 0.0;
    for (const runner::OpTime& op : times) total += op.seconds;
    if (total <= 0.0) return "Operation time: not profiled";
    std::string text = "Operation time:";
    double shown = 0.0;
    for (size_t i = 0; i < times.size() && i < most; ++i) {
        text += fmt::format("{} {} {:.1f}%", i == 0 ? "" : ",", times[i].type,
                            100.0 * times[i].seconds / total);
        shown += times[i].seconds;
    }
    if (times.size() > most)
        text += fmt::format(", other {:.1f}%", 100.0 * (total - shown) / total);
    return text;
}

}  // namespace ovllm::bench
