// `ovllm generate`: offline generation through the engine, like vLLM's LLM.generate.
//   --prompt TEXT (repeatable), --prompt-file F (one prompt per line, or JSONL with
//   {"prompt": ...} / {"prompt_token_ids": [...]}), --prompt-ids 1,2,3 (raw token ids).
// Prints each completion's text; with --prompt-ids, the generated ids as a JSON array.
// Greedy unless --temperature is given. --output-json writes one record per prompt.
// Constrained decoding: --json-schema FILE, or vLLM's --structured-output JSON
// (e.g. '{"regex": "[0-9]+"}', '{"choice": ["yes", "no"]}').
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "bench/report.hpp"
#include "commands.hpp"
#include "engine/llm_engine.hpp"
#include "hub_models.hpp"
#include "model_argument.hpp"
#include "ovllm/llm.hpp"
#include "structured_output/request_forms.hpp"
#include "structured_output/schema_check.hpp"
#include "util/cli_flags.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/log.hpp"

namespace ovllm::cli {
namespace {

struct GenerateOptions {
    ModelArgument model;
    EngineConfig engine;
    config::FlagTracker tracker;
    SamplingParams sampling;
    std::vector<std::string> prompts;
    std::string prompt_file;
    std::string prompt_ids;
    std::string output_json;
    std::string json_schema_file;
    std::string structured_output;
    int max_tokens = 16;
};

// --json-schema / --structured-output -> SamplingParams::structured_outputs.
void set_structured_outputs(GenerateOptions& o) {
    if (!o.json_schema_file.empty() && !o.structured_output.empty())
        throw_error("give either --json-schema or --structured-output, not both");
    if (!o.json_schema_file.empty()) {
        StructuredOutputs so;
        so.json = util::read_file(o.json_schema_file);
        try {  // before the model loads
            structured::check_json_schema(*so.json);
        } catch (const Error& e) {
            throw_error("--json-schema {}: {}", o.json_schema_file, e.what());
        }
        o.sampling.structured_outputs = std::move(so);
    } else if (!o.structured_output.empty()) {
        nlohmann::ordered_json value;  // keeps the schema's property order
        try {
            value = nlohmann::ordered_json::parse(o.structured_output);
        } catch (const nlohmann::json::exception& e) {
            throw_error("--structured-output: invalid JSON: {}", e.what());
        }
        o.sampling.structured_outputs =
            structured::structured_outputs_from_json(value, "--structured-output");
    }
}

std::vector<int64_t> parse_ids(const std::string& text) {
    std::vector<int64_t> ids;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        size_t used = 0;
        int64_t id = -1;
        try {
            id = std::stoll(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || id < 0)
            throw_error("--prompt-ids: '{}' is not a token id", item);
        ids.push_back(id);
    }
    if (ids.empty()) throw_error("--prompt-ids: no token ids given");
    return ids;
}

struct PromptBatch {
    std::vector<std::string> texts;               // text prompts, or
    std::vector<std::vector<int64_t>> token_ids;  // token-id prompts
};

// One prompt per line; a line that is a JSON object gives "prompt" or "prompt_token_ids".
void read_prompt_file(const std::string& path, PromptBatch& batch) {
    std::ifstream in(path);
    if (!in) throw_error("--prompt-file: cannot open {}", path);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty()) continue;
        if (line.front() != '{') {
            batch.texts.push_back(line);
            continue;
        }
        nlohmann::json record;
        try {
            record = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw_error("{}:{}: invalid JSON: {}", path, number, e.what());
        }
        if (record.contains("prompt_token_ids"))
            batch.token_ids.push_back(record.at("prompt_token_ids").get<std::vector<int64_t>>());
        else if (record.contains("prompt") && record.at("prompt").is_string())
            batch.texts.push_back(record.at("prompt").get<std::string>());
        else
            throw_error("{}:{}: expected a \"prompt\" string or \"prompt_token_ids\"", path,
                        number);
    }
    if (!batch.texts.empty() && !batch.token_ids.empty())
        throw_error("{}: mixes text prompts and token-id prompts", path);
}

nlohmann::json to_json(const RequestOutput& out) {
    nlohmann::json completions = nlohmann::json::array();
    for (const CompletionOutput& c : out.outputs) {
        completions.push_back({{"index", c.index},
                               {"text", c.text},
                               {"token_ids", c.token_ids},
                               {"finish_reason", c.finish_reason.value_or("")}});
    }
    const RequestMetrics& m = out.metrics;
    return {{"prompt", out.prompt},
            {"prompt_token_ids", out.prompt_token_ids},
            {"completions", completions},
            {"metrics",
             {{"arrival_time", m.arrival_time},
              {"first_token_time", m.first_token_time},
              {"finished_time", m.finished_time},
              {"time_to_first_token", m.first_token_time - m.arrival_time},
              {"num_cached_tokens", m.num_cached_tokens}}}};
}

int run_generate(GenerateOptions& o) {
    o.engine.model = o.model.resolve(o.engine.model, "generate");
    config::log_notes(
        config::resolve_engine_config(o.engine, o.tracker, config::process_environment()));
    resolve_hub_models(o.engine, o.tracker.hub);
    o.sampling.max_tokens = o.max_tokens;
    PromptBatch batch;
    batch.texts = o.prompts;
    if (!o.prompt_file.empty()) read_prompt_file(o.prompt_file, batch);
    if (!o.prompt_ids.empty()) batch.token_ids.push_back(parse_ids(o.prompt_ids));
    if (batch.texts.empty() && batch.token_ids.empty())
        throw_error("no prompt: give --prompt, --prompt-file or --prompt-ids");
    if (!batch.texts.empty() && !batch.token_ids.empty())
        throw_error("give either text prompts or token ids, not both");
    set_structured_outputs(o);
    o.sampling.validate();

    LLM llm(o.engine);
    const bool ids_only = !batch.token_ids.empty();
    const std::vector<RequestOutput> outputs = ids_only ? llm.generate(batch.token_ids, o.sampling)
                                                        : llm.generate(batch.texts, o.sampling);
    for (const RequestOutput& out : outputs) {
        for (const CompletionOutput& c : out.outputs) {
            if (ids_only)
                std::printf("[%s]\n", fmt::format("{}", fmt::join(c.token_ids, ", ")).c_str());
            else
                std::printf("%s\n", c.text.c_str());
        }
    }
    if (const std::string spec = bench::format_spec_decode(llm.engine().stats()); !spec.empty())
        OVLLM_INFO("{}", spec);
    if (!o.output_json.empty()) {
        std::ofstream file(o.output_json);
        if (!file) throw_error("--output-json: cannot write {}", o.output_json);
        for (const RequestOutput& out : outputs) file << to_json(out).dump() << '\n';
    }
    return 0;
}

void add_sampling_flags(CLI::App& cmd, GenerateOptions& o) {
    SamplingParams& p = o.sampling;
    p.temperature = 0.0f;  // greedy unless asked otherwise
    config::add_value_flag(cmd, "temperature", p.temperature, "0 = greedy");
    config::add_value_flag(cmd, "top-p", p.top_p, "Nucleus sampling mass in (0, 1]");
    config::add_value_flag(cmd, "top-k", p.top_k, "Keep the k most likely tokens (0 or -1: all)");
    config::add_value_flag(cmd, "min-p", p.min_p, "Drop tokens below min_p x the top probability");
    config::add_value_flag(cmd, "presence-penalty", p.presence_penalty, "");
    config::add_value_flag(cmd, "frequency-penalty", p.frequency_penalty, "");
    config::add_value_flag(cmd, "repetition-penalty", p.repetition_penalty, "");
    cmd.add_option("--sampling-seed,--sampling_seed", p.seed, "Per-request seed");
    config::add_value_flag(cmd, "max-tokens", o.max_tokens, "Tokens to generate per completion");
    config::add_value_flag(cmd, "min-tokens", p.min_tokens, "EOS is masked until this many");
    config::add_value_flag(cmd, "n", p.n, "Completions per prompt");
    cmd.add_option("--stop", p.stop, "Stop string (repeatable)");
    cmd.add_option("--stop-token-ids,--stop_token_ids", p.stop_token_ids, "Stop token ids");
    config::add_bool_flag(cmd, "ignore-eos", p.ignore_eos, "Keep generating after EOS");
    config::add_bool_flag(cmd, "include-stop-str-in-output", p.include_stop_str_in_output, "");
    cmd.add_option("--logprobs", p.logprobs, "Top-N logprobs per token");
}

}  // namespace

Command add_generate_command(CLI::App& app) {
    auto o = std::make_shared<GenerateOptions>();
    CLI::App* cmd = app.add_subcommand("generate", "Generate completions offline");
    o->model.add_positional(*cmd, "Model folder, IR folder, .gguf file or built-in name");
    config::add_engine_flags(*cmd, o->engine, o->tracker);
    cmd->add_option("--prompt", o->prompts, "A prompt (repeatable)");
    config::add_value_flag(*cmd, "prompt-file", o->prompt_file,
                           "One prompt per line, or JSONL with prompt / prompt_token_ids");
    config::add_value_flag(*cmd, "prompt-ids", o->prompt_ids, "Comma-separated token ids");
    config::add_value_flag(*cmd, "output-json", o->output_json, "Write one JSON record per prompt");
    config::add_value_flag(*cmd, "json-schema", o->json_schema_file,
                           "Constrain the output to this JSON Schema file");
    config::add_value_flag(*cmd, "structured-output", o->structured_output,
                           "vLLM's structured_outputs as JSON: json, json_object, regex, choice, "
                           "grammar or structural_tag");
    add_sampling_flags(*cmd, *o);
    return [o] { return run_generate(*o); };
}

}  // namespace ovllm::cli
