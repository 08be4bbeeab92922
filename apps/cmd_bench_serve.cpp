// `ovllm bench serve`: vLLM's serving benchmark flags parsed into BenchServeOptions, then
// run_bench_serve against a running OpenAI-compatible server. With --backend openai-chat the
// random token ids become text through the model's tokenizer (--tokenizer, else --model when
// it is a local folder), as chat messages carry text only.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_serve_command.hpp"
#include "hub_models.hpp"
#include "server/bench_serve.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/cli_flags.hpp"
#include "util/error.hpp"

namespace ovllm::cli {
namespace {

struct BenchServeCommandOptions {
    server::BenchServeOptions bench;
    std::string base_url;
    bool disable_tqdm = false;
    bool trust_remote_code = false;
};

// "http://host:port[/...]" -> host and port.
void apply_base_url(const std::string& url, server::BenchServeOptions& options) {
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

std::optional<std::filesystem::path> tokenizer_folder(const server::BenchServeOptions& options) {
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

// Random prompts as text: the ids are drawn from the tokenizer's vocabulary and decoded.
std::vector<server::BenchPrompt> text_prompts(const server::BenchServeOptions& options) {
    const auto folder = tokenizer_folder(options);
    if (!folder)
        throw_error(
            "--backend openai-chat needs text prompts: give --tokenizer (a folder with "
            "tokenizer.json or a hub name) or --model as a local model folder");
    const tokenizer::Tokenizer tokenizer = tokenizer::Tokenizer::from_folder(*folder);
    server::BenchServeOptions vocab_options = options;
    vocab_options.random_vocab_size = static_cast<int>(tokenizer.vocab_size());
    std::vector<server::BenchPrompt> prompts = server::random_token_prompts(vocab_options);
    for (server::BenchPrompt& prompt : prompts) {
        prompt.text = tokenizer.decode(prompt.token_ids, true);
        prompt.token_ids.clear();
    }
    return prompts;
}

int run_bench_serve_command(BenchServeCommandOptions& o) {
    server::BenchServeOptions& options = o.bench;
    if (!o.base_url.empty()) apply_base_url(o.base_url, options);
    if (options.backend != "openai" && options.backend != "openai-chat" &&
        options.backend != "vllm")
        throw_error("--backend: '{}' is not one of openai, openai-chat, vllm", options.backend);
    if (options.backend == "vllm") options.backend = "openai";
    if (options.dataset_name != "random")
        throw_error("--dataset-name: only 'random' is supported, got '{}'", options.dataset_name);
    server::PromptBuilder builder;
    if (options.backend == "openai-chat") builder = text_prompts;
    const server::BenchServeResult result = server::run_bench_serve(options, builder);
    std::printf("%s", server::format_bench_serve_result(result, options).c_str());
    if (options.save_result) {
        const std::string path = server::save_bench_serve_result(result, options);
        std::printf("Saved the result to %s\n", path.c_str());
    }
    std::fflush(stdout);
    return result.completed > 0 ? 0 : 1;
}

}  // namespace

Command add_bench_serve_subcommand(CLI::App& bench) {
    auto o = std::make_shared<BenchServeCommandOptions>();
    server::BenchServeOptions& b = o->bench;
    CLI::App* cmd = bench.add_subcommand("serve", "Benchmark an OpenAI-compatible server");
    using config::add_bool_flag;
    using config::add_value_flag;
    add_value_flag(*cmd, "backend", b.backend, "openai (/v1/completions) or openai-chat");
    add_value_flag(*cmd, "base-url", o->base_url, "Server URL, e.g. http://127.0.0.1:8000");
    add_value_flag(*cmd, "host", b.host, "Server host");
    add_value_flag(*cmd, "port", b.port, "Server port");
    add_value_flag(*cmd, "endpoint", b.endpoint, "API path; default per backend");
    add_value_flag(*cmd, "model", b.model, "Model name; default: the server's first model");
    add_value_flag(*cmd, "tokenizer", b.tokenizer, "Tokenizer folder or hub name (text prompts)");
    add_value_flag(*cmd, "dataset-name", b.dataset_name, "Only 'random'");
    add_value_flag(*cmd, "random-input-len", b.random_input_len, "Prompt tokens per request");
    add_value_flag(*cmd, "random-output-len", b.random_output_len, "Output tokens per request");
    add_value_flag(*cmd, "random-range-ratio", b.random_range_ratio,
                   "Lengths uniform in [len*(1-r), len*(1+r)]");
    add_value_flag(*cmd, "num-prompts", b.num_prompts, "Requests to send");
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
