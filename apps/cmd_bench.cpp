// `ovllm bench`: offline benchmarks with vLLM's flags and output.
//   throughput: every request is queued at once and the engine runs until all finish;
//               prints "Throughput: X requests/s, Y total tokens/s, Z output tokens/s".
//   latency:    one batch of `--batch-size` prompts, end to end, timed `--num-iters` times;
//               prints the average and the 10/25/50/75/90/99% percentiles.
// Sampling follows vLLM's benchmarks: temperature 1.0 (--temperature changes it), top_p 1.0,
// ignore_eos, max_tokens = the output length. Random prompts are token ids, so a model without
// tokenizer works.
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_options.hpp"
#include "bench/dataset.hpp"
#include "bench/report.hpp"
#include "bench_serve_command.hpp"
#include "commands.hpp"
#include "engine/llm_engine.hpp"
#include "hub_models.hpp"
#include "model_argument.hpp"
#include "util/cli_flags.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/progress_bar.hpp"

namespace ovllm::cli {
namespace {

struct ThroughputCommand {
    ModelArgument model;
    bench::ThroughputOptions options;
    config::FlagTracker tracker;
    bool disable_detokenize = false;
};

struct LatencyCommand {
    ModelArgument model;
    bench::LatencyOptions options;
    config::FlagTracker tracker;
    bool disable_detokenize = false;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

SamplingParams bench_sampling(int n, int output_len, double temperature, bool detokenize) {
    SamplingParams params;
    params.n = n;
    params.temperature = static_cast<float>(temperature);
    params.top_p = 1.0f;
    params.ignore_eos = true;
    params.max_tokens = output_len;
    params.detokenize = detokenize;
    params.output_kind = OutputKind::final_only;  // only the finished request is read
    return params;
}

std::vector<bench::BenchRequest> load_requests(const bench::ThroughputOptions& options,
                                               const engine::LLMEngine& engine) {
    if (bench::dataset_kind(options) == "random") {
        return bench::random_requests(
            bench::random_dataset_options(options, engine.model_config().vocab_size));
    }
    const tokenizer::Tokenizer* tok = engine.tokenizer();
    if (tok == nullptr)
        throw_error("--dataset-path: the ShareGPT dataset needs a tokenizer; {} has none",
                    options.engine.model);
    bench::ShareGptOptions share;
    share.num_requests = options.num_prompts;
    share.seed = options.engine.seed;
    share.fixed_output_len = options.output_len;
    return bench::load_sharegpt(options.dataset_path, share, [tok](const std::string& text) {
        const std::vector<int64_t> ids = tok->encode(text, true);
        return std::vector<int32_t>(ids.begin(), ids.end());
    });
}

engine::PromptInput to_prompt(const bench::BenchRequest& request) {
    engine::PromptInput prompt;
    prompt.text = request.prompt;
    prompt.token_ids.assign(request.prompt_token_ids.begin(), request.prompt_token_ids.end());
    return prompt;
}

int64_t generated_tokens(const RequestOutput& out) {
    int64_t total = 0;
    for (const CompletionOutput& c : out.outputs) total += static_cast<int64_t>(c.token_ids.size());
    return total;
}

// Where the time went: the engine's stages, and the model's operations when profiled.
void log_engine_times(const engine::LLMEngine& engine) {
    OVLLM_INFO("{}", bench::format_step_times(engine.stats()));
    if (const std::string spec = bench::format_spec_decode(engine.stats()); !spec.empty())
        OVLLM_INFO("{}", spec);
    if (engine.config().profile_ops)
        OVLLM_INFO("{}", bench::format_op_times(engine.runner().op_times()));
}

int run_throughput(ThroughputCommand& cmd) {
    bench::ThroughputOptions& o = cmd.options;
    if (cmd.model.positional_given()) {  // else --model, or the benchmark's default model
        o.engine.model = cmd.model.resolve(cmd.tracker.was_set("model") ? o.engine.model : "",
                                           "bench throughput");
    }
    bench::validate(o);
    config::log_notes(
        config::resolve_engine_config(o.engine, cmd.tracker, config::process_environment()));
    resolve_hub_models(o.engine, cmd.tracker.hub);
    engine::LLMEngine engine(o.engine);
    const std::vector<bench::BenchRequest> requests = load_requests(o, engine);
    // A model without tokenizer files can only run on token ids.
    const bool detokenize = !cmd.disable_detokenize && engine.tokenizer() != nullptr;

    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < requests.size(); ++i) {
        engine.add_request(std::to_string(i), to_prompt(requests[i]),
                           bench_sampling(o.n, requests[i].output_len, o.temperature, detokenize));
    }
    progress::ProgressBar bar("Processed prompts", static_cast<int64_t>(requests.size()));
    bench::ThroughputResult result;
    while (engine.has_unfinished_requests()) {
        for (const RequestOutput& out : engine.step()) {
            if (!out.finished) continue;
            const auto prompt_len = static_cast<int64_t>(out.prompt_token_ids.size());
            const int64_t output_len = generated_tokens(out);
            result.total_prompt_tokens += prompt_len;
            result.total_output_tokens += output_len;
            bar.update(1, prompt_len, output_len);
        }
    }
    result.elapsed_s = seconds_since(start);
    bar.close();
    log_engine_times(engine);
    result.num_requests = static_cast<int64_t>(requests.size());
    std::fputs(bench::format_throughput_report(result).c_str(), stdout);
    std::fflush(stdout);
    if (!o.output_json.empty())
        bench::write_text_file(o.output_json, bench::throughput_json(result));
    return 0;
}

// One batch from submission until every request has finished; seconds.
double run_batch(engine::LLMEngine& engine, const std::vector<engine::PromptInput>& prompts,
                 const SamplingParams& params, int& next_id) {
    const auto start = std::chrono::steady_clock::now();
    for (const engine::PromptInput& prompt : prompts)
        engine.add_request(std::to_string(next_id++), prompt, params);
    while (engine.has_unfinished_requests()) engine.step();
    return seconds_since(start);
}

int run_latency(LatencyCommand& cmd) {
    bench::LatencyOptions& o = cmd.options;
    if (cmd.model.positional_given()) {  // else --model, or the benchmark's default model
        o.engine.model =
            cmd.model.resolve(cmd.tracker.was_set("model") ? o.engine.model : "", "bench latency");
    }
    bench::validate(o);
    config::log_notes(
        config::resolve_engine_config(o.engine, cmd.tracker, config::process_environment()));
    resolve_hub_models(o.engine, cmd.tracker.hub);
    engine::LLMEngine engine(o.engine);
    if (o.input_len + o.output_len > engine.max_model_len())
        throw_error("--input-len + --output-len: {} exceeds the model's context of {} tokens",
                    o.input_len + o.output_len, engine.max_model_len());

    // Random token ids below 10000 (or the vocabulary), like vLLM's latency benchmark.
    std::mt19937_64 rng(o.engine.seed);
    std::uniform_int_distribution<int64_t> token(
        0, std::min<int64_t>(10000, engine.model_config().vocab_size) - 1);
    std::vector<engine::PromptInput> prompts(static_cast<size_t>(o.batch_size));
    for (engine::PromptInput& prompt : prompts) {
        prompt.token_ids.resize(static_cast<size_t>(o.input_len));
        for (int64_t& id : prompt.token_ids) id = token(rng);
    }
    const bool detokenize = !cmd.disable_detokenize && engine.tokenizer() != nullptr;
    const SamplingParams params = bench_sampling(o.n, o.output_len, o.temperature, detokenize);

    int next_id = 0;
    {
        progress::ProgressBar warmup("Warmup iterations", o.num_iters_warmup, false);
        for (int i = 0; i < o.num_iters_warmup; ++i) {
            run_batch(engine, prompts, params, next_id);
            warmup.update(1);
        }
    }
    bench::LatencyResult result;
    {
        progress::ProgressBar timed("Profiling iterations", o.num_iters, false);
        for (int i = 0; i < o.num_iters; ++i) {
            result.latencies_s.push_back(run_batch(engine, prompts, params, next_id));
            timed.update(1);
        }
    }
    log_engine_times(engine);
    std::fputs(bench::format_latency_report(result).c_str(), stdout);
    std::fflush(stdout);
    if (!o.output_json.empty()) bench::write_text_file(o.output_json, bench::latency_json(result));
    return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
    CLI::App* bench = app.add_subcommand("bench", "Offline benchmarks (vLLM's benchmark scripts)");
    bench->require_subcommand(1);

    auto throughput = std::make_shared<ThroughputCommand>();
    CLI::App* tp = bench->add_subcommand("throughput", "Requests/s and tokens/s of a workload");
    throughput->model.add_positional(*tp, "Model folder or built-in name");
    bench::add_throughput_flags(*tp, throughput->options, throughput->tracker);
    config::add_bool_flag(*tp, "disable-detokenize", throughput->disable_detokenize,
                          "keep outputs as token ids (no detokenizer time)");

    auto latency = std::make_shared<LatencyCommand>();
    CLI::App* lat = bench->add_subcommand("latency", "End-to-end latency of one batch");
    latency->model.add_positional(*lat, "Model folder or built-in name");
    bench::add_latency_flags(*lat, latency->options, latency->tracker);
    config::add_bool_flag(*lat, "disable-detokenize", latency->disable_detokenize,
                          "keep outputs as token ids (no detokenizer time)");

    const Command serve = add_bench_serve_subcommand(*bench);
    CLI::App* serve_app = bench->get_subcommand("serve");

    return [tp, lat, serve_app, throughput, latency, serve]() -> int {
        if (tp->parsed()) return run_throughput(*throughput);
        if (lat->parsed()) return run_latency(*latency);
        if (serve_app->parsed()) return serve();
        return 1;
    };
}

}  // namespace ovllm::cli
