// `ovllm bench serve`: vLLM's serving benchmark flags parsed into BenchServeOptions, then
// run_bench_serve against a running OpenAI-compatible server. The prompts are those of
// `bench throughput` for the same --seed (bench/dataset.hpp). With --backend openai-chat the
// random token ids become text through the model's tokenizer (--tokenizer, else --model when
// it is a local folder), as chat messages carry text only; ShareGPT needs it too.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/serve_client.hpp"
#include "bench_serve_command.hpp"
#include "hub_models.hpp"
#include "model_argument.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/cli_flags.hpp"
#include "util/error.hpp"

namespace ovllm::cli {
namespace {

struct BenchServeCommandOptions {
    ModelArgument model;
    bench::BenchServeOptions bench;
    std::string base_url;
    bool disable_tqdm = false;
    bool trust_remote_code = false;
};

// "http://host:port[/...]" -> host and port.
void apply_base_url(const std::string& url, bench::BenchServeOptions& options) {
    std::string rest = url;
    const std::string scheme = "http://";
    if (rest.rfind("https://", 0) == 0) throw_error("--base-url: https is not supported: {}", url);
    if (rest.rfind(scheme, 0) == 0) rest = rest.substr(scheme.size());
    rest = rest.substr(0, rest.find('/'));
    const size_t colon = rest.rfind(':');
    if (rest.empty()) throw_error("--base-url: no host in {}", url);
    if (colon == std::string::npos) {
        options.host = rest;
        options.port = 80;
        return;
    }
    options.host = rest.substr(0, colon);
    try {
        options.port = std::stoi(rest.substr(colon + 1));
    } catch (const std::exception&) {
        throw_error("--base-url: bad port in {}", url);
    }
}

std::optional<std::filesystem::path> tokenizer_folder(const bench::BenchServeOptions& options) {
    // A hub name given as --tokenizer is fetched; --model is only the served name.
    const std::string tokenizer =
        resolve_hub_model(options.tokenizer, "", "", hub::FileSet::tokenizer);
    for (const std::string& candidate : {tokenizer, options.model}) {
        std::error_code error;
        if (!candidate.empty() && std::filesystem::is_regular_file(
                                      std::filesystem::path(candidate) / "tokenizer.json", error))
            return std::filesystem::path(candidate);
    }
    return std::nullopt;
}

tokenizer::Tokenizer load_tokenizer(const bench::BenchServeOptions& options, const char* why) {
    const auto folder = tokenizer_folder(options);
    if (!folder) {
        throw_error(
            "{} needs the model's tokenizer: give --tokenizer or --model as a local "
            "model folder with tokenizer.json",
            why);
    }
    return tokenizer::Tokenizer::from_folder(*folder);
}

// The vocabulary random ids are drawn from: config.json's vocab_size, as `bench throughput`
// uses, so that both make the same prompts for a seed; else the tokenizer's.
int64_t random_vocab(const bench::BenchServeOptions& options,
                     const tokenizer::Tokenizer& tokenizer) {
    const auto folder = tokenizer_folder(options);
    std::ifstream in(*folder / "config.json");
    const nlohmann::json config = nlohmann::json::parse(in, nullptr, false);
    if (config.is_object() && config.contains("vocab_size") &&
        config["vocab_size"].is_number_integer()) {
        return config["vocab_size"].get<int64_t>();
    }
    return static_cast<int64_t>(tokenizer.vocab_size());
}

// Random prompts as text: the ids are decoded with the model's tokenizer.
std::vector<bench::BenchRequest> text_prompts(const bench::BenchServeOptions& options) {
    const tokenizer::Tokenizer tokenizer = load_tokenizer(options, "--backend openai-chat");
    std::vector<bench::BenchRequest> prompts = bench::random_requests(
        bench::random_dataset_options(options, random_vocab(options, tokenizer)));
    for (bench::BenchRequest& prompt : prompts) {
        const std::vector<int64_t> ids(prompt.prompt_token_ids.begin(),
                                       prompt.prompt_token_ids.end());
        prompt.prompt = tokenizer.decode(ids, true);
        prompt.prompt_token_ids.clear();
    }
    return prompts;
}

// ShareGPT conversations, pruned and shuffled as `bench throughput` does; sent as text.
std::vector<bench::BenchRequest> sharegpt_prompts(const bench::BenchServeOptions& options) {
    if (options.dataset_path.empty()) throw_error("--dataset-name sharegpt needs --dataset-path");
    const tokenizer::Tokenizer tokenizer = load_tokenizer(options, "--dataset-name sharegpt");
    bench::ShareGptOptions sharegpt;
    sharegpt.num_requests = options.num_prompts;
    sharegpt.seed = options.seed;
    sharegpt.fixed_output_len = options.sharegpt_output_len;
    return bench::load_sharegpt(options.dataset_path, sharegpt, [&](const std::string& text) {
        const std::vector<int64_t> ids = tokenizer.encode(text, false);
        return std::vector<int32_t>(ids.begin(), ids.end());
    });
}

int run_bench_serve_command(BenchServeCommandOptions& o) {
    bench::BenchServeOptions& options = o.bench;
    if (!o.base_url.empty()) apply_base_url(o.base_url, options);
    if (options.backend != "openai" && options.backend != "openai-chat" &&
        options.backend != "vllm")
        throw_error("--backend: '{}' is not one of openai, openai-chat, vllm", options.backend);
    if (options.backend == "vllm") options.backend = "openai";
    if (o.model.positional_given()) options.model = o.model.resolve(options.model, "bench serve");
    bench::PromptBuilder builder;
    if (options.dataset_name == "sharegpt") {
        builder = sharegpt_prompts;
    } else if (options.dataset_name != "random") {
        throw_error("--dataset-name: '{}' is not one of random, sharegpt", options.dataset_name);
    } else if (options.backend == "openai-chat") {
        builder = text_prompts;
    } else if (const auto folder = tokenizer_folder(options)) {
        // Token ids from the model's own vocabulary, as `bench throughput` draws them.
        builder = [](const bench::BenchServeOptions& options) {
            const tokenizer::Tokenizer tokenizer = load_tokenizer(options, "random prompts");
            return bench::random_requests(
                bench::random_dataset_options(options, random_vocab(options, tokenizer)));
        };
    }
    const bench::BenchServeResult result = bench::run_bench_serve(options, builder);
    std::printf("%s", bench::format_bench_serve_result(result, options).c_str());
    if (options.save_result) {
        const std::string path = bench::save_bench_serve_result(result, options);
        std::printf("Saved the result to %s\n", path.c_str());
    }
    std::fflush(stdout);
    return result.completed > 0 ? 0 : 1;
}

}  // namespace

Command add_bench_serve_subcommand(CLI::App& bench) {
    auto o = std::make_shared<BenchServeCommandOptions>();
    bench::BenchServeOptions& b = o->bench;
    CLI::App* cmd = bench.add_subcommand("serve", "Benchmark an OpenAI-compatible server");
    using config::add_bool_flag;
    using config::add_value_flag;
    add_value_flag(*cmd, "backend", b.backend, "openai (/v1/completions) or openai-chat");
    add_value_flag(*cmd, "base-url", o->base_url, "Server URL, e.g. http://127.0.0.1:8000");
    add_value_flag(*cmd, "host", b.host, "Server host");
    add_value_flag(*cmd, "port", b.port, "Server port");
    add_value_flag(*cmd, "endpoint", b.endpoint, "API path; default per backend");
    o->model.add_positional(*cmd, "Model name; default: the server's first model");
    add_value_flag(*cmd, "model", b.model, "Model name; default: the server's first model");
    add_value_flag(*cmd, "tokenizer", b.tokenizer, "Tokenizer folder or hub name (text prompts)");
    add_value_flag(*cmd, "dataset-name", b.dataset_name, "random or sharegpt");
    add_value_flag(*cmd, "dataset-path", b.dataset_path, "The ShareGPT JSON file");
    add_value_flag(*cmd, "sharegpt-output-len", b.sharegpt_output_len,
                   "Output tokens per ShareGPT request instead of its reply's length");
    add_value_flag(*cmd, "random-input-len", b.random_input_len, "Prompt tokens per request");
    add_value_flag(*cmd, "random-output-len", b.random_output_len, "Output tokens per request");
    add_value_flag(*cmd, "random-range-ratio", b.random_range_ratio,
                   "Lengths uniform in [len*(1-r), len*(1+r)]");
    add_value_flag(*cmd, "num-prompts", b.num_prompts, "Requests (conversations) to send");
    add_value_flag(*cmd, "multi-turn", b.num_turns,
                   "Turns per conversation (openai-chat): each resends the whole history");
    cmd->add_option("--metrics-url", b.metrics_urls,
                    "Prometheus URL(s) whose prefix-cache counters give the hit rate");
    add_value_flag(*cmd, "request-rate", b.request_rate, "Requests per second (inf = all at once)");
    add_value_flag(*cmd, "burstiness", b.burstiness, "Gamma shape of arrivals; 1 = Poisson");
    add_value_flag(*cmd, "max-concurrency", b.max_concurrency, "Requests in flight at most");
    add_bool_flag(*cmd, "ignore-eos", b.ignore_eos, "Generate all output tokens");
    add_value_flag(*cmd, "percentile-metrics", b.percentile_metrics, "Of ttft,tpot,itl,e2el");
    add_value_flag(*cmd, "metric-percentiles", b.metric_percentiles, "e.g. 50,90,99");
    add_bool_flag(*cmd, "save-result", b.save_result, "Write the JSON result");
    add_value_flag(*cmd, "result-dir", b.result_dir, "Folder of the JSON result");
    add_value_flag(*cmd, "result-filename", b.result_filename, "Name of the JSON result");
    add_value_flag(*cmd, "seed", b.seed, "Dataset and arrival seed");
    add_bool_flag(*cmd, "disable-tqdm", o->disable_tqdm, "Accepted for vLLM compatibility");
    add_bool_flag(*cmd, "trust-remote-code", o->trust_remote_code, "Accepted; ignored");
    b.api_key = [] {
        for (const char* name : {"OPENAI_API_KEY", "VLLM_API_KEY", "OVLLM_API_KEY"}) {
            const char* value = std::getenv(name);
            if (value && *value) return std::string(value);
        }
        return std::string();
    }();
    return [o] { return run_bench_serve_command(*o); };
}

}  // namespace ovllm::cli
