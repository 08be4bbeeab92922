#include "bench/serve_client.hpp"

#include "bench/report.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <span>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

#include "util/error.hpp"

namespace ovllm::bench {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) items.push_back(item);
    }
    return items;
}

std::vector<double> parse_percentiles(const std::string& text) {
    std::vector<double> values;
    for (const std::string& item : split_list(text)) {
        try {
            size_t used = 0;
            const double value = std::stod(item, &used);
            if (used != item.size() || value < 0 || value > 100) throw std::invalid_argument("");
            values.push_back(value);
        } catch (const std::exception&) {
            throw_error("--metric-percentiles: '{}' is not a number in [0, 100]", item);
        }
    }
    return values;
}

std::vector<std::string> selected_metrics(const BenchServeOptions& options) {
    std::vector<std::string> metrics = split_list(options.percentile_metrics);
    for (const std::string& metric : metrics) {
        if (metric != "ttft" && metric != "tpot" && metric != "itl" && metric != "e2el") {
            throw_error("--percentile-metrics: unknown metric '{}' (use ttft, tpot, itl, e2el)",
                        metric);
        }
    }
    return metrics;
}

void check_options(const BenchServeOptions& options) {
    if (options.backend != "openai" && options.backend != "openai-chat") {
        throw_error("--backend: '{}' is not supported (use openai or openai-chat)",
                    options.backend);
    }
    if (options.num_turns < 1) throw_error("--multi-turn must be at least 1");
    if (options.num_turns > 1 && options.backend != "openai-chat") {
        throw_error("--multi-turn {} needs --backend openai-chat (a conversation is chat)",
                    options.num_turns);
    }
    if (options.dataset_name != "random") {
        throw_error("--dataset-name: '{}' is not supported (use random)", options.dataset_name);
    }
    if (options.num_prompts < 1) throw_error("--num-prompts must be at least 1");
    if (options.random_input_len < 1 || options.random_output_len < 1) {
        throw_error("--random-input-len and --random-output-len must be at least 1");
    }
    if (options.random_range_ratio < 0 || options.random_range_ratio >= 1) {
        throw_error("--random-range-ratio must be in [0, 1), got {}", options.random_range_ratio);
    }
    if (!(options.request_rate > 0)) throw_error("--request-rate must be positive or inf");
    if (!(options.burstiness > 0)) throw_error("--burstiness must be positive");
    if (options.max_concurrency < 0) throw_error("--max-concurrency must not be negative");
    selected_metrics(options);
    parse_percentiles(options.metric_percentiles);
}

std::string endpoint_of(const BenchServeOptions& options) {
    if (!options.endpoint.empty()) return options.endpoint;
    return options.backend == "openai-chat" ? "/v1/chat/completions" : "/v1/completions";
}

httplib::Headers headers_of(const BenchServeOptions& options) {
    httplib::Headers headers;
    if (!options.api_key.empty()) headers.emplace("Authorization", "Bearer " + options.api_key);
    return headers;
}

std::string first_served_model(const BenchServeOptions& options) {
    httplib::Client client(options.host, options.port);
    client.set_read_timeout(30);
    const auto result = client.Get("/v1/models", headers_of(options));
    if (!result) {
        throw_error("bench serve: cannot reach http://{}:{}/v1/models ({})", options.host,
                    options.port, httplib::to_string(result.error()));
    }
    const json body = json::parse(result->body, nullptr, false);
    if (result->status != 200 || !body.contains("data") || !body["data"].is_array() ||
        body["data"].empty() || !body["data"][0].contains("id")) {
        throw_error("bench serve: GET /v1/models answered {}: {}", result->status, result->body);
    }
    return body["data"][0]["id"].get<std::string>();
}

// Arrival offsets (seconds from the start) of each request.
std::vector<double> arrival_times(const BenchServeOptions& options, std::mt19937_64& rng) {
    std::vector<double> times(static_cast<size_t>(options.num_prompts), 0.0);
    if (std::isinf(options.request_rate)) return times;
    // Gamma-distributed gaps with mean 1/rate; shape 1 gives a Poisson process.
    std::gamma_distribution<double> gap(options.burstiness,
                                        1.0 / (options.request_rate * options.burstiness));
    double now = 0.0;
    for (double& time : times) {
        time = now;
        now += gap(rng);
    }
    return times;
}

// `history`: the messages of the conversation so far (multi-turn), else empty.
json request_body(const BenchServeOptions& options, const std::string& model,
                  const BenchRequest& prompt, const json& history) {
    json body = {{"model", model},
                 {"max_tokens", prompt.output_len},
                 {"temperature", 0.0},
                 {"stream", true},
                 {"stream_options", {{"include_usage", true}}}};
    if (options.ignore_eos) body["ignore_eos"] = true;
    if (options.backend == "openai-chat") {
        body["messages"] = history.empty()
                               ? json::array({{{"role", "user"}, {"content", prompt.prompt}}})
                               : history;
        body["max_completion_tokens"] = prompt.output_len;
        body.erase("max_tokens");
    } else if (!prompt.prompt.empty()) {
        body["prompt"] = prompt.prompt;
    } else {
        body["prompt"] = prompt.prompt_token_ids;
    }
    return body;
}

// Reads one SSE stream, timing every chunk that carries text.
class StreamReader {
  public:
    StreamReader(BenchRequestResult& result, Clock::time_point start)
        : result_(result), start_(start), last_(start) {}

    bool feed(const char* data, size_t length) {
        buffer_.append(data, length);
        size_t end = 0;
        while ((end = buffer_.find("\n\n")) != std::string::npos) {
            handle(buffer_.substr(0, end));
            buffer_.erase(0, end + 2);
        }
        return true;
    }
    bool saw_error() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    int chunks() const { return chunks_; }

  private:
    void handle(const std::string& frame) {
        if (frame.rfind("data: ", 0) != 0) return;
        const std::string payload = frame.substr(6);
        if (payload == "[DONE]") return;
        const json data = json::parse(payload, nullptr, false);
        if (data.is_discarded()) return;
        if (data.contains("error")) {
            error_ = data["error"].value("message", std::string("stream error"));
            return;
        }
        if (data.contains("usage") && data["usage"].is_object()) {
            result_.output_len = data["usage"].value("completion_tokens", 0);
            // The server's count: a later turn's prompt is the whole history.
            result_.prompt_len = data["usage"].value("prompt_tokens", result_.prompt_len);
        }
        if (!data.contains("choices") || !data["choices"].is_array() || data["choices"].empty()) {
            return;
        }
        const json& choice = data["choices"][0];
        std::string text;
        if (choice.contains("text") && choice["text"].is_string()) {
            text = choice["text"].get<std::string>();
        } else if (choice.contains("delta") && choice["delta"].contains("content") &&
                   choice["delta"]["content"].is_string()) {
            text = choice["delta"]["content"].get<std::string>();
        }
        if (text.empty()) return;
        const auto now = Clock::now();
        if (chunks_ == 0) {
            result_.ttft = std::chrono::duration<double>(now - start_).count();
        } else {
            result_.itl.push_back(std::chrono::duration<double>(now - last_).count());
        }
        last_ = now;
        ++chunks_;
        result_.generated_text += text;
    }

    BenchRequestResult& result_;
    Clock::time_point start_, last_;
    std::string buffer_;
    std::string error_;
    int chunks_ = 0;
};

BenchRequestResult send_one(httplib::Client& client, const BenchServeOptions& options,
                            const std::string& path, const std::string& model,
                            const BenchRequest& prompt, const json& history = json::array()) {
    BenchRequestResult result;
    result.prompt_len = prompt.prompt_len;
    httplib::Request request;
    request.method = "POST";
    request.path = path;
    request.headers = headers_of(options);
    request.set_header("Content-Type", "application/json");
    request.body = request_body(options, model, prompt, history).dump();
    const auto start = Clock::now();
    StreamReader reader(result, start);
    request.content_receiver = [&reader](const char* data, size_t length, uint64_t, uint64_t) {
        return reader.feed(data, length);
    };
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    const bool sent = client.send(request, response, error);
    result.latency = std::chrono::duration<double>(Clock::now() - start).count();
    if (!sent) {
        result.error = httplib::to_string(error);
    } else if (response.status != 200) {
        result.error = fmt::format("HTTP {}: {}", response.status, response.body);
    } else if (reader.saw_error()) {
        result.error = reader.error();
    } else {
        result.success = true;
        if (result.output_len == 0) result.output_len = reader.chunks();
    }
    return result;
}

// Sends the turns of conversation `index` one after another into results[index * turns ...].
// A failed turn ends the conversation; its later turns count as failed too.
void run_conversation(httplib::Client& client, const BenchServeOptions& options,
                      const std::string& path, const std::string& model, const BenchRequest& prompt,
                      std::span<BenchRequestResult> results) {
    json history = json::array({{{"role", "user"}, {"content", prompt.prompt}}});
    for (size_t turn = 0; turn < results.size(); ++turn) {
        results[turn] = send_one(client, options, path, model, prompt, history);
        if (!results[turn].success) {
            for (size_t rest = turn + 1; rest < results.size(); ++rest)
                results[rest].error = "an earlier turn of the conversation failed";
            return;
        }
        history.push_back({{"role", "assistant"}, {"content", results[turn].generated_text}});
        history.push_back({{"role", "user"}, {"content", kFollowUpMessage}});
    }
}

// (queries, hits) summed over the URLs; throws naming the URL that does not answer.
std::pair<double, double> read_prefix_cache_counters(const std::vector<std::string>& urls) {
    double queries = 0.0, hits = 0.0;
    for (const std::string& url : urls) {
        const size_t path_at =
            url.find('/', url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
        const std::string origin = path_at == std::string::npos ? url : url.substr(0, path_at);
        const std::string path = path_at == std::string::npos ? "/metrics" : url.substr(path_at);
        httplib::Client client(origin);
        client.set_read_timeout(30);
        const auto response = client.Get(path);
        if (!response || response->status != 200) {
            throw_error("--metrics-url {}: {}", url,
                        response ? fmt::format("HTTP {}", response->status)
                                 : httplib::to_string(response.error()));
        }
        queries += prometheus_counter(response->body, "vllm:prefix_cache_queries_total");
        hits += prometheus_counter(response->body, "vllm:prefix_cache_hits_total");
    }
    return {queries, hits};
}

}  // namespace

double prometheus_counter(const std::string& text, const std::string& name) {
    double sum = 0.0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(name, 0) != 0 || line.size() == name.size()) continue;
        const char next = line[name.size()];
        if (next != ' ' && next != '{') continue;  // another metric sharing the prefix
        const size_t value_at = line.find_last_of(' ');
        try {
            sum += std::stod(line.substr(value_at + 1));
        } catch (const std::exception&) {
            throw_error("metrics: '{}' has no number after the name", line);
        }
    }
    return sum;
}

MetricSummary summarize_ms(std::vector<double> values, const std::vector<double>& percentiles) {
    MetricSummary summary;
    for (double& value : values) value *= 1000.0;
    std::sort(values.begin(), values.end());
    if (!values.empty()) {
        const double n = double(values.size());
        summary.mean_ms = std::accumulate(values.begin(), values.end(), 0.0) / n;
        summary.median_ms = percentile(values, 50.0);
        double squares = 0.0;
        for (const double value : values)
            squares += (value - summary.mean_ms) * (value - summary.mean_ms);
        summary.std_ms = std::sqrt(squares / n);
    }
    for (const double p : percentiles)
        summary.percentiles_ms.emplace_back(p, values.empty() ? 0.0 : percentile(values, p));
    return summary;
}

RandomDatasetOptions random_dataset_options(const BenchServeOptions& options, int64_t vocab_size) {
    RandomDatasetOptions random;
    random.num_requests = options.num_prompts;
    random.input_len = options.random_input_len;
    random.output_len = options.random_output_len;
    random.range_ratio = options.random_range_ratio;
    random.vocab_size = vocab_size;
    random.seed = options.seed;
    return random;
}

std::vector<BenchRequest> random_token_prompts(const BenchServeOptions& options) {
    return random_requests(random_dataset_options(options, options.random_vocab_size));
}

BenchServeResult run_bench_serve(const BenchServeOptions& options,
                                 const PromptBuilder& build_prompts) {
    check_options(options);
    BenchServeResult result;
    result.model = options.model.empty() ? first_served_model(options) : options.model;
    const std::vector<BenchRequest> prompts =
        build_prompts ? build_prompts(options) : random_token_prompts(options);
    if (prompts.empty()) throw_error("bench serve: the dataset is empty");
    std::optional<std::pair<double, double>> counters_before;
    if (!options.metrics_urls.empty())
        counters_before = read_prefix_cache_counters(options.metrics_urls);
    std::mt19937_64 rng(options.seed + 1);
    BenchServeOptions schedule_options = options;
    schedule_options.num_prompts = static_cast<int>(prompts.size());
    const std::vector<double> arrivals = arrival_times(schedule_options, rng);
    const std::string path = endpoint_of(options);

    // Each worker holds one connection and takes the next request when its arrival time
    // has come; the number of workers is the concurrency limit.
    size_t workers = prompts.size();
    if (options.max_concurrency > 0) workers = std::min(workers, size_t(options.max_concurrency));
    workers = std::min<size_t>(workers, 2048);
    const size_t turns = static_cast<size_t>(options.num_turns);
    result.requests.resize(prompts.size() * turns);
    std::atomic<size_t> next{0};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (size_t w = 0; w < workers; ++w) {
        threads.emplace_back([&] {
            httplib::Client client(options.host, options.port);
            client.set_keep_alive(true);
            client.set_tcp_nodelay(true);
            client.set_read_timeout(6 * 3600);
            client.set_connection_timeout(30);
            for (size_t i = next++; i < prompts.size(); i = next++) {
                std::this_thread::sleep_until(start +
                                              std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(arrivals[i])));
                if (turns == 1) {
                    result.requests[i] = send_one(client, options, path, result.model, prompts[i]);
                } else {
                    run_conversation(client, options, path, result.model, prompts[i],
                                     std::span(result.requests).subspan(i * turns, turns));
                }
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    result.duration = std::chrono::duration<double>(Clock::now() - start).count();
    if (counters_before) {
        const auto [queries, hits] = read_prefix_cache_counters(options.metrics_urls);
        result.prefix_cache_queries = queries - counters_before->first;
        result.prefix_cache_hits = hits - counters_before->second;
    }

    const std::vector<double> percentiles = parse_percentiles(options.metric_percentiles);
    std::vector<double> ttfts, tpots, itls, e2els;
    for (const BenchRequestResult& request : result.requests) {
        if (!request.success) {
            ++result.failed;
            continue;
        }
        ++result.completed;
        result.total_input_tokens += request.prompt_len;
        result.total_output_tokens += request.output_len;
        ttfts.push_back(request.ttft);
        e2els.push_back(request.latency);
        itls.insert(itls.end(), request.itl.begin(), request.itl.end());
        if (request.output_len > 1) {
            tpots.push_back((request.latency - request.ttft) / (request.output_len - 1));
        }
    }
    const double duration = std::max(result.duration, 1e-9);
    result.request_throughput = result.completed / duration;
    result.output_throughput = double(result.total_output_tokens) / duration;
    result.total_token_throughput =
        double(result.total_input_tokens + result.total_output_tokens) / duration;
    result.metrics["ttft"] = summarize_ms(ttfts, percentiles);
    result.metrics["tpot"] = summarize_ms(tpots, percentiles);
    result.metrics["itl"] = summarize_ms(itls, percentiles);
    result.metrics["e2el"] = summarize_ms(e2els, percentiles);
    return result;
}

namespace {

struct MetricLabel {
    const char* key;
    const char* header;
    const char* name;
};
constexpr MetricLabel kMetricLabels[] = {
    {"ttft", "Time to First Token", "TTFT"},
    {"tpot", "Time per Output Token (excl. 1st token)", "TPOT"},
    {"itl", "Inter-token Latency", "ITL"},
    {"e2el", "End-to-end Latency", "E2EL"},
};

const MetricLabel& label_of(const std::string& key) {
    for (const MetricLabel& label : kMetricLabels) {
        if (key == label.key) return label;
    }
    throw_error("unknown metric '{}'", key);
}

// 99 -> "99", 99.9 -> "99.9", as the percentile appears in names.
std::string percentile_word(double p) {
    return p == std::floor(p) ? fmt::format("{}", int64_t(p)) : fmt::format("{}", p);
}

}  // namespace

std::string format_bench_serve_result(const BenchServeResult& result,
                                      const BenchServeOptions& options) {
    std::string out;
    auto line = [&out](std::string_view name, const std::string& value) {
        fmt::format_to(std::back_inserter(out), "{:<40} {:<10}\n", name, value);
    };
    auto real = [](double value) { return fmt::format("{:.2f}", value); };
    fmt::format_to(std::back_inserter(out), "{:=^50}\n", " Serving Benchmark Result ");
    line("Successful requests:", std::to_string(result.completed));
    line("Failed requests:", std::to_string(result.failed));
    if (options.max_concurrency > 0) {
        line("Maximum request concurrency:", std::to_string(options.max_concurrency));
    }
    line("Benchmark duration (s):", real(result.duration));
    line("Total input tokens:", std::to_string(result.total_input_tokens));
    line("Total generated tokens:", std::to_string(result.total_output_tokens));
    line("Request throughput (req/s):", real(result.request_throughput));
    line("Output token throughput (tok/s):", real(result.output_throughput));
    line("Total Token throughput (tok/s):", real(result.total_token_throughput));
    if (result.prefix_cache_queries) {
        const double queries = *result.prefix_cache_queries;
        line("Prefix cache hit rate (%):",
             real(queries > 0 ? 100.0 * *result.prefix_cache_hits / queries : 0.0));
    }
    for (const std::string& key : selected_metrics(options)) {
        const MetricLabel& label = label_of(key);
        const MetricSummary& summary = result.metrics.at(key);
        fmt::format_to(std::back_inserter(out), "{:-^50}\n", label.header);
        line(fmt::format("Mean {} (ms):", label.name), real(summary.mean_ms));
        line(fmt::format("Median {} (ms):", label.name), real(summary.median_ms));
        for (const auto& [p, value] : summary.percentiles_ms) {
            line(fmt::format("P{} {} (ms):", percentile_word(p), label.name), real(value));
        }
    }
    out += std::string(50, '=') + "\n";
    return out;
}

json bench_serve_result_json(const BenchServeResult& result, const BenchServeOptions& options) {
    std::array<char, 32> date{};
    const std::time_t now = std::time(nullptr);
    std::strftime(date.data(), date.size(), "%Y%m%d-%H%M%S", std::localtime(&now));
    json out = {{"date", date.data()},
                {"backend", options.backend},
                {"model_id", result.model},
                {"tokenizer_id", options.tokenizer.empty() ? result.model : options.tokenizer},
                {"num_prompts", result.requests.size()},
                {"request_rate",
                 std::isinf(options.request_rate) ? json("inf") : json(options.request_rate)},
                {"burstiness", options.burstiness},
                {"max_concurrency",
                 options.max_concurrency > 0 ? json(options.max_concurrency) : json(nullptr)},
                {"duration", result.duration},
                {"completed", result.completed},
                {"failed", result.failed},
                {"total_input_tokens", result.total_input_tokens},
                {"total_output_tokens", result.total_output_tokens},
                {"request_throughput", result.request_throughput},
                {"request_goodput", nullptr},
                {"output_throughput", result.output_throughput},
                {"total_token_throughput", result.total_token_throughput}};
    if (options.num_turns > 1) out["num_turns"] = options.num_turns;
    if (result.prefix_cache_queries) {
        out["prefix_cache_queries"] = *result.prefix_cache_queries;
        out["prefix_cache_hits"] = *result.prefix_cache_hits;
    }
    json input_lens = json::array(), output_lens = json::array(), ttfts = json::array(),
         itls = json::array(), texts = json::array(), errors = json::array();
    for (const BenchRequestResult& request : result.requests) {
        input_lens.push_back(request.prompt_len);
        output_lens.push_back(request.output_len);
        ttfts.push_back(request.ttft);
        itls.push_back(request.itl);
        texts.push_back(request.generated_text);
        errors.push_back(request.error);
    }
    out["input_lens"] = std::move(input_lens);
    out["output_lens"] = std::move(output_lens);
    out["ttfts"] = std::move(ttfts);
    out["itls"] = std::move(itls);
    out["generated_texts"] = std::move(texts);
    out["errors"] = std::move(errors);
    for (const std::string& key : selected_metrics(options)) {
        const MetricSummary& summary = result.metrics.at(key);
        out[fmt::format("mean_{}_ms", key)] = summary.mean_ms;
        out[fmt::format("median_{}_ms", key)] = summary.median_ms;
        out[fmt::format("std_{}_ms", key)] = summary.std_ms;
        for (const auto& [p, value] : summary.percentiles_ms) {
            out[fmt::format("p{}_{}_ms", percentile_word(p), key)] = value;
        }
    }
    return out;
}

std::string save_bench_serve_result(const BenchServeResult& result,
                                    const BenchServeOptions& options) {
    const json data = bench_serve_result_json(result, options);
    std::string name = options.result_filename;
    if (name.empty()) {
        const std::string rate =
            std::isinf(options.request_rate) ? "inf" : fmt::format("{}", options.request_rate);
        const std::string concurrency = options.max_concurrency > 0
                                            ? fmt::format("-concurrency{}", options.max_concurrency)
                                            : "";
        const std::string model = result.model.substr(result.model.find_last_of('/') + 1);
        name = fmt::format("{}-{}qps{}-{}-{}.json", options.backend, rate, concurrency, model,
                           data["date"].get<std::string>());
    }
    const std::filesystem::path path = options.result_dir.empty()
                                           ? std::filesystem::path(name)
                                           : std::filesystem::path(options.result_dir) / name;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream file(path);
    if (!file) throw_error("{}: cannot write the benchmark result", path.string());
    file << data.dump(-1, ' ', false, json::error_handler_t::replace);
    if (!file) throw_error("{}: cannot write the benchmark result", path.string());
    return path.string();
}

}  // namespace ovllm::bench
