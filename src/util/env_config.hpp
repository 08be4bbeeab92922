#pragma once
// vLLM's OpenVINO environment variables applied to an EngineConfig. A field given on the
// command line always wins over the environment.
//
// Each setting is read from the first of these names that is set (ovllm's own spellings
// win over vLLM's):
//   KV cache space (GB, float, 0 means 4) -> kv_cache_space_gb
//     OVLLM_KVCACHE_SPACE, OVLLM_OPENVINO_KVCACHE_SPACE, OVLLM_CPU_KVCACHE_SPACE,
//     VLLM_OPENVINO_KVCACHE_SPACE, VLLM_CPU_KVCACHE_SPACE
//   KV cache precision (u8 | i8 | f16 | bf16 | f32) -> kv_cache_dtype
//     OVLLM_KV_CACHE_PRECISION, OVLLM_OPENVINO_KV_CACHE_PRECISION,
//     OVLLM_OPENVINO_CPU_KV_CACHE_PRECISION, VLLM_OPENVINO_KV_CACHE_PRECISION,
//     VLLM_OPENVINO_CPU_KV_CACHE_PRECISION
//   Quantized weights (ON/true/1 -> int8, OFF/false/0 -> none; any case) -> weight_format
//     OVLLM_ENABLE_QUANTIZED_WEIGHTS, OVLLM_OPENVINO_ENABLE_QUANTIZED_WEIGHTS,
//     VLLM_OPENVINO_ENABLE_QUANTIZED_WEIGHTS
//   Device (CPU only) -> device
//     OVLLM_DEVICE, OVLLM_OPENVINO_DEVICE, VLLM_OPENVINO_DEVICE
// The short OVLLM_ name is listed first; every VLLM_ name also works with an O in front.
//
// Model loading (model_cache_dir, ir_cache_disabled):
//   OVLLM_CACHE_DIR, else XDG_CACHE_HOME/ovllm, else HOME/.cache/ovllm: the cache root
//   OVLLM_DISABLE_IR_CACHE (set, not "" or "0"): no IR cache
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ovllm/config.hpp"

namespace ovllm::config {

// Looks one environment variable up; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (std::getenv).
EnvLookup process_environment();
// A fixed environment, for tests.
EnvLookup environment_from_map(std::map<std::string, std::string> variables);

enum class NoteLevel { info, warning };

// A line for the log, worded like vLLM's where vLLM had one.
struct ConfigNote {
    NoteLevel level = NoteLevel::info;
    std::string text;
    bool operator==(const ConfigNote&) const = default;
};

// EngineConfig member names an environment variable can set; `set_on_command_line`
// holds the ones the user gave as flags, which the environment then leaves alone.
inline constexpr const char* kFieldKvCacheSpace = "kv_cache_space_gb";
inline constexpr const char* kFieldKvCacheDtype = "kv_cache_dtype";
inline constexpr const char* kFieldWeightFormat = "weight_format";
inline constexpr const char* kFieldDevice = "device";

// The names read for one setting, first one set wins (see the table above).
std::vector<std::string> env_names_for(const std::string& field);

// Applies the environment to `config`. Throws ovllm::Error naming the variable and
// listing the accepted values when a value is not understood.
std::vector<ConfigNote> apply_env_config(EngineConfig& config,
                                         const std::set<std::string>& set_on_command_line,
                                         const EnvLookup& env);

// The root of ovllm's on-disk caches (the IR cache lives under "ir/"): $OVLLM_CACHE_DIR,
// else $XDG_CACHE_HOME/ovllm, else $HOME/.cache/ovllm (/tmp/.cache/ovllm when HOME is unset).
std::filesystem::path model_cache_dir(const EnvLookup& env = process_environment());
// True when OVLLM_DISABLE_IR_CACHE is set to anything but "" or "0".
bool ir_cache_disabled(const EnvLookup& env = process_environment());

// Writes each note to the log at its level.
void log_notes(const std::vector<ConfigNote>& notes);

// Where and how Hugging Face Hub names are resolved, read as huggingface_hub reads it:
//   endpoint   HF_ENDPOINT (trailing '/' dropped), default https://huggingface.co
//   cache_dir  HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, where HF_HOME
//              defaults to $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface
//   offline    HF_HUB_OFFLINE (else TRANSFORMERS_OFFLINE) is 1, ON, YES or TRUE (any case)
//   token      HF_TOKEN (else HUGGING_FACE_HUB_TOKEN), else the file HF_TOKEN_PATH or
//              $HF_HOME/token that `hf auth login` writes; empty = anonymous
struct HubEnvironment {
    std::string endpoint;
    std::string cache_dir;
    bool offline = false;
    std::string token;
    std::string token_source;  // the variable or file the token came from, for messages
};
HubEnvironment hub_environment(const EnvLookup& env);

}  // namespace ovllm::config
