#include "util/cli_flags.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "util/error.hpp"
#include "util/speculative_config.hpp"

namespace ovllm::config {
namespace {

const std::vector<std::string> kLoadFormats = {"auto", "dummy"};
const std::vector<std::string> kDtypes = {"auto", "bf16", "f16", "f32"};
const std::vector<std::string> kKvCacheDtypes = {"auto", "u8", "i8", "f16", "bf16", "f32"};
const std::vector<std::string> kWeightFormats = {"auto", "int8", "int4", "none"};
constexpr int kCpuBlockSize = 32;  // tokens per block the OpenVINO CPU plugin pages by

std::string to_lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool contains(const std::vector<std::string>& choices, const std::string& value) {
    return std::find(choices.begin(), choices.end(), value) != choices.end();
}

std::string choice_error(const std::string& value, const std::vector<std::string>& choices) {
    return fmt::format("'{}' is not one of: {}", value, fmt::join(choices, ", "));
}

void check_choice(const char* flag, const std::string& value,
                  const std::vector<std::string>& choices) {
    if (!contains(choices, value)) throw_error("{}: {}", flag, choice_error(value, choices));
}

// vLLM's torch-style dtype names -> ours.
CLI::Validator dtype_aliases() {
    return CLI::Validator(
        [](std::string& value) {
            static const std::map<std::string, std::string> kAliases = {
                {"half", "f16"},    {"float16", "f16"}, {"bfloat16", "bf16"}, {"float", "f32"},
                {"float32", "f32"}, {"fp16", "f16"},    {"fp32", "f32"},
            };
            value = to_lower(value);
            const auto it = kAliases.find(value);
            if (it != kAliases.end()) value = it->second;
            return std::string();
        },
        "", "dtype_aliases");
}

// vLLM spelled the device auto|cpu|openvino|...; OpenVINO spells it CPU.
CLI::Validator cpu_device() {
    return CLI::Validator(
        [](std::string& value) {
            const std::string lower = to_lower(value);
            if (lower == "auto" || lower == "cpu" || lower == "openvino") {
                value = "CPU";
                return std::string();
            }
            return fmt::format("device '{}' is not supported (accepted: auto, cpu, openvino, CPU)",
                               value);
        },
        "CPU", "cpu_device");
}

}  // namespace

void add_hub_flags(CLI::App& app, std::string& revision, std::string& gguf_file) {
    add_value_flag(app, "revision", revision,
                   "branch, tag or commit of a Hugging Face Hub model (default: main)");
    app.add_option(flag_names("gguf-file") + ",--hf-file", gguf_file,
                   "the .gguf file to take from a GGUF hub repo");
}

namespace {

void add_model_flags(CLI::App& app, EngineConfig& config, FlagTracker& tracker) {
    tracker.track("model",
                  add_value_flag(app, "model", config.model,
                                 "HF folder, OpenVINO IR folder, GGUF file, or a Hugging Face "
                                 "Hub name ORG/NAME (ORG/NAME:QUANT picks a GGUF file)"));
    tracker.track("tokenizer",
                  add_value_flag(app, "tokenizer", config.tokenizer,
                                 "tokenizer folder or hub name (default: the model's)"));
    add_hub_flags(app, tracker.hub.revision, tracker.hub.gguf_file);
    add_value_flag(app, "tokenizer-revision", tracker.hub.tokenizer_revision,
                   "branch, tag or commit of a hub tokenizer (default: --revision)");
    tracker.track("load_format",
                  add_value_flag(app, "load-format", config.load_format,
                                 "auto, or dummy for random weights of the right shapes")
                      ->check(one_of(kLoadFormats)));
    tracker.track("dtype", add_value_flag(app, "dtype", config.dtype,
                                          "inference precision: auto (bf16), bf16, f16, f32")
                               ->transform(dtype_aliases())
                               ->check(one_of(kDtypes)));
    tracker.track("kv_cache_dtype",
                  add_value_flag(app, "kv-cache-dtype", config.kv_cache_dtype,
                                 "KV cache precision: auto (u8), u8, i8, f16, bf16, f32")
                      ->transform(CLI::Validator(
                          [](std::string& value) {
                              value = to_lower(value);
                              return std::string();
                          },
                          "", "lower"))
                      ->check(one_of(kKvCacheDtypes)));
    tracker.track(
        "weight_format",
        app.add_option(flag_names("weight-format", "-q") + "," + flag_names("quantization"),
                       config.weight_format, "weight compression: auto, int8, int4, none")
            ->capture_default_str()
            ->check(one_of(kWeightFormats)));
}

void add_scheduler_flags(CLI::App& app, EngineConfig& config, FlagTracker& tracker) {
    tracker.track("max_model_len",
                  add_value_flag(app, "max-model-len", config.max_model_len,
                                 "longest prompt + output in tokens (0: the model's limit)"));
    tracker.track("max_num_seqs", add_value_flag(app, "max-num-seqs", config.max_num_seqs,
                                                 "most sequences in one step"));
    tracker.track("max_num_batched_tokens",
                  add_value_flag(app, "max-num-batched-tokens", config.max_num_batched_tokens,
                                 "most tokens in one step (0: max(8192, max-model-len))"));
    tracker.track("enable_chunked_prefill",
                  add_bool_flag(app, "enable-chunked-prefill", config.enable_chunked_prefill,
                                "split long prompts across steps"));
    tracker.track("enable_prefix_caching",
                  add_bool_flag(app, "enable-prefix-caching", config.enable_prefix_caching,
                                "reuse KV blocks of shared prompt prefixes"));
    tracker.track("block_size", add_value_flag(app, "block-size", config.block_size,
                                               "tokens per KV block (32 on CPU)"));
}

void add_runtime_flags(CLI::App& app, EngineConfig& config, FlagTracker& tracker) {
    tracker.track("seed", add_value_flag(app, "seed", config.seed, "random seed"));
    tracker.track(
        "device",
        add_value_flag(app, "device", config.device, "OpenVINO device")->transform(cpu_device()));
    tracker.track("swap_space", add_value_flag(app, "swap-space", tracker.swap_space_gb,
                                               "accepted for vLLM compatibility; unused (GB)"));
    tracker.track(kFieldKvCacheSpace,
                  add_value_flag(app, "kv-cache-space", config.kv_cache_space_gb,
                                 "KV cache size in GB (0 means 4); "
                                 "env VLLM_OPENVINO_KVCACHE_SPACE"));
    tracker.track("num_threads", add_value_flag(app, "num-threads", config.num_threads,
                                                "inference threads (0: all cores)"));
    tracker.track("speculative_config",
                  add_value_flag(app, "speculative-config", tracker.speculative_config,
                                 "vLLM's JSON, e.g. '{\"method\": \"ngram\", "
                                 "\"num_speculative_tokens\": 4, \"prompt_lookup_max\": 4}'"));
    tracker.track("trust_remote_code",
                  add_bool_flag(app, "trust-remote-code", tracker.trust_remote_code,
                                "accepted for vLLM compatibility; no remote code is run"));
}

void force_cpu_block_size(EngineConfig& config, std::vector<ConfigNote>& notes) {
    if (config.block_size == kCpuBlockSize) return;
    notes.push_back({NoteLevel::warning,
                     fmt::format("OpenVINO optimal block size is {}, overriding currently set {}",
                                 kCpuBlockSize, config.block_size)});
    config.block_size = kCpuBlockSize;
}

// f32 KV needs f32 inference on this plugin (bf16 inference rejects an f32 cache).
void match_kv_precision(EngineConfig& config, std::vector<ConfigNote>& notes) {
    if (config.kv_cache_dtype != "f32" || config.dtype == "f32") return;
    if (config.dtype != "auto") {
        throw_error("--kv-cache-dtype: an f32 KV cache needs --dtype f32 (got --dtype {})",
                    config.dtype);
    }
    config.dtype = "f32";
    notes.push_back(
        {NoteLevel::info, "Inference precision is set to f32 to match the f32 KV cache."});
}

void check_at_least(const char* flag, long long value, long long minimum) {
    if (value < minimum) throw_error("{}: must be >= {} (got {})", flag, minimum, value);
}

void validate_limits(const EngineConfig& config, const FlagTracker& tracker) {
    check_at_least("--max-model-len", config.max_model_len,
                   tracker.was_set("max_model_len") ? 1 : 0);
    check_at_least("--max-num-seqs", config.max_num_seqs, 1);
    check_at_least("--max-num-batched-tokens", config.max_num_batched_tokens,
                   tracker.was_set("max_num_batched_tokens") ? 1 : 0);
    check_at_least("--num-threads", config.num_threads, 0);
    if (!(config.kv_cache_space_gb >= 0.0)) {
        throw_error("--kv-cache-space: must be >= 0 GB (got {})", config.kv_cache_space_gb);
    }
    const int batched = config.max_num_batched_tokens;
    if (batched > 0 && batched < config.max_num_seqs) {
        throw_error(
            "--max-num-batched-tokens ({}) must be greater than or equal to "
            "--max-num-seqs ({})",
            batched, config.max_num_seqs);
    }
    if (batched > 0 && !config.enable_chunked_prefill && config.max_model_len > batched) {
        throw_error(
            "--max-num-batched-tokens ({}) is smaller than --max-model-len ({}) with "
            "chunked prefill disabled; increase --max-num-batched-tokens or decrease "
            "--max-model-len",
            batched, config.max_model_len);
    }
}

}  // namespace

std::string flag_names(std::string_view dashed_name, std::string_view short_name) {
    std::string names = fmt::format("--{}", dashed_name);
    std::string underscored(dashed_name);
    std::replace(underscored.begin(), underscored.end(), '-', '_');
    if (underscored != dashed_name) names += fmt::format(",--{}", underscored);
    if (!short_name.empty()) names += fmt::format(",{}", short_name);
    return names;
}

CLI::Option* add_bool_flag(CLI::App& app, std::string_view dashed_name, bool& value,
                           const std::string& description) {
    const std::string positive = flag_names(dashed_name);
    const std::string negative = flag_names(fmt::format("no-{}", dashed_name));
    std::string names = positive;
    std::string::size_type start = 0;
    // Each negative name gets CLI11's "!" prefix, which makes it store false.
    while (start <= negative.size()) {
        const auto comma = negative.find(',', start);
        const auto end = comma == std::string::npos ? negative.size() : comma;
        names += ",!" + negative.substr(start, end - start);
        start = end + 1;
    }
    return app.add_flag(names, value, description);
}

CLI::Validator one_of(std::vector<std::string> choices) {
    const std::string description = fmt::format("{{{}}}", fmt::join(choices, ","));
    return CLI::Validator(
        [choices = std::move(choices)](std::string& value) {
            return contains(choices, value) ? std::string() : choice_error(value, choices);
        },
        description, "one_of");
}

void FlagTracker::track(const std::string& field, const CLI::Option* option) {
    options_[field] = option;
}

bool FlagTracker::was_set(const std::string& field) const {
    const auto it = options_.find(field);
    return it != options_.end() && it->second->count() > 0;
}

std::set<std::string> FlagTracker::set_fields() const {
    std::set<std::string> fields;
    for (const auto& [field, option] : options_) {
        if (option->count() > 0) fields.insert(field);
    }
    return fields;
}

void add_engine_flags(CLI::App& app, EngineConfig& config, FlagTracker& tracker) {
    add_model_flags(app, config, tracker);
    add_scheduler_flags(app, config, tracker);
    add_runtime_flags(app, config, tracker);
}

std::vector<ConfigNote> resolve_engine_config(EngineConfig& config, const FlagTracker& tracker,
                                              const EnvLookup& env) {
    std::vector<ConfigNote> notes = apply_env_config(config, tracker.set_fields(), env);
    if (config.model.empty()) throw_error("--model: no model given");
    if (config.tokenizer.empty()) config.tokenizer = config.model;
    check_choice("--load-format", config.load_format, kLoadFormats);
    check_choice("--dtype", config.dtype, kDtypes);
    check_choice("--kv-cache-dtype", config.kv_cache_dtype, kKvCacheDtypes);
    check_choice("--weight-format", config.weight_format, kWeightFormats);
    if (config.device != "CPU") {
        throw_error("--device: '{}' is not supported (accepted: CPU)", config.device);
    }
    validate_limits(config, tracker);
    if (config.kv_cache_space_gb == 0.0) config.kv_cache_space_gb = 4.0;
    force_cpu_block_size(config, notes);
    match_kv_precision(config, notes);
    if (!tracker.speculative_config.empty())
        config.speculative_config = parse_speculative_config(tracker.speculative_config);
    if (tracker.was_set("swap_space")) {
        notes.push_back({NoteLevel::info,
                         "--swap-space is ignored: the KV cache lives in CPU memory already "
                         "(size it with --kv-cache-space)."});
    }
    return notes;
}

}  // namespace ovllm::config
