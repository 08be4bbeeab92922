#pragma once
// CLI11 helpers so every vLLM flag works as vLLM users type it: `--num-prompts 8`,
// `--num_prompts 8`, `--num-prompts=8`; boolean switches also as `--no-<name>` and
// `--<name>=true|false`. add_engine_flags registers the EngineConfig flags shared by
// generate, bench and serve; resolve_engine_config then applies the environment
// (env_config.hpp) with the command line winning, and validates the result.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "ovllm/config.hpp"
#include "util/env_config.hpp"

namespace ovllm::config {

// "max-model-len" -> "--max-model-len,--max_model_len" (one name when there is no dash).
// `short_name` ("-q") is appended when given.
std::string flag_names(std::string_view dashed_name, std::string_view short_name = {});

// An option taking a value, under both spellings.
template <typename T>
CLI::Option* add_value_flag(CLI::App& app, std::string_view dashed_name, T& value,
                            const std::string& description, std::string_view short_name = {}) {
    return app.add_option(flag_names(dashed_name, short_name), value, description)
        ->capture_default_str();
}

// A boolean switch: --name, --name=false, --no-name (each in both spellings).
CLI::Option* add_bool_flag(CLI::App& app, std::string_view dashed_name, bool& value,
                           const std::string& description);

// Accepts exactly one of `choices`; the error lists them.
CLI::Validator one_of(std::vector<std::string> choices);

// Where a Hugging Face Hub name in --model / --tokenizer is taken from (src/hub resolves
// it; apps/hub_models.hpp applies it to an EngineConfig).
struct HubFlags {
    std::string revision;            // branch, tag or commit of a hub model; empty = main
    std::string tokenizer_revision;  // the same for a hub tokenizer; empty = `revision`
    std::string gguf_file;           // the .gguf file to take from a GGUF hub repo
};

// Remembers which EngineConfig fields came from the command line, and holds the flags
// ovllm accepts for vLLM compatibility but does not use. It reads the CLI::App's options,
// so ask it (and call resolve_engine_config) while that app is alive.
class FlagTracker {
  public:
    void track(const std::string& field, const CLI::Option* option);
    // True when the user gave the flag bound to `field` (an EngineConfig member name).
    bool was_set(const std::string& field) const;
    std::set<std::string> set_fields() const;

    HubFlags hub;                    // --revision, --tokenizer-revision, --gguf-file
    double swap_space_gb = 4.0;      // --swap-space: vLLM's CPU swap; unused here
    bool trust_remote_code = false;  // --trust-remote-code: no remote code is ever run
    std::string speculative_config;  // --speculative-config JSON, parsed by resolve_engine_config

  private:
    std::map<std::string, const CLI::Option*> options_;
};

// --revision and --gguf-file (alias --hf-file, llama.cpp's spelling), for the commands that
// take a model without the engine flags (info, convert, tokenize).
void add_hub_flags(CLI::App& app, std::string& revision, std::string& gguf_file);

// Registers on `app`: --model, --tokenizer, --revision, --tokenizer-revision, --gguf-file,
// --load-format, --dtype, --kv-cache-dtype,
// --weight-format/--quantization/-q, --max-model-len, --max-num-seqs,
// --max-num-batched-tokens, --enable-chunked-prefill, --enable-prefix-caching,
// --block-size, --seed, --device, --swap-space, --kv-cache-space, --num-threads,
// --trust-remote-code, --speculative-config. Values land in `config` when the command line is
// parsed.
void add_engine_flags(CLI::App& app, EngineConfig& config, FlagTracker& tracker);

// After parsing: applies the environment (command line wins), forces the CPU block size,
// fills defaults that depend on other fields (tokenizer = model) and validates every
// field. Throws ovllm::Error naming the flag on bad values; returns lines to log.
std::vector<ConfigNote> resolve_engine_config(EngineConfig& config, const FlagTracker& tracker,
                                              const EnvLookup& env);

}  // namespace ovllm::config
