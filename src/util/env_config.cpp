#include "util/env_config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::config {
namespace {

// The vLLM names of each setting, newest spelling first.
const std::map<std::string, std::vector<std::string>>& vllm_names() {
    static const std::map<std::string, std::vector<std::string>> names = {
        {kFieldKvCacheSpace, {"VLLM_OPENVINO_KVCACHE_SPACE", "VLLM_CPU_KVCACHE_SPACE"}},
        {kFieldKvCacheDtype,
         {"VLLM_OPENVINO_KV_CACHE_PRECISION", "VLLM_OPENVINO_CPU_KV_CACHE_PRECISION"}},
        {kFieldWeightFormat, {"VLLM_OPENVINO_ENABLE_QUANTIZED_WEIGHTS"}},
        {kFieldDevice, {"VLLM_OPENVINO_DEVICE"}},
    };
    return names;
}

const std::map<std::string, std::string>& short_names() {
    static const std::map<std::string, std::string> names = {
        {kFieldKvCacheSpace, "OVLLM_KVCACHE_SPACE"},
        {kFieldKvCacheDtype, "OVLLM_KV_CACHE_PRECISION"},
        {kFieldWeightFormat, "OVLLM_ENABLE_QUANTIZED_WEIGHTS"},
        {kFieldDevice, "OVLLM_DEVICE"},
    };
    return names;
}

std::string to_lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

struct Found {
    std::string name;
    std::string value;
};

// The first variable of `field` that is set, and a note for each later one it shadows.
std::optional<Found> lookup(const std::string& field, const EnvLookup& env,
                            std::vector<ConfigNote>& notes) {
    std::optional<Found> found;
    for (const std::string& name : env_names_for(field)) {
        const std::optional<std::string> value = env(name);
        if (!value) continue;
        if (!found) {
            found = Found{name, trimmed(*value)};
        } else if (trimmed(*value) != found->value) {
            notes.push_back(
                {NoteLevel::warning, fmt::format("{}={} is ignored because {}={} is set.", name,
                                                 trimmed(*value), found->name, found->value)});
        }
    }
    return found;
}

// Returns true when the command line already set `field` (and notes the ignored variable).
bool command_line_wins(const std::string& field, const std::set<std::string>& set_on_cli,
                       const Found& found, const char* flag, std::vector<ConfigNote>& notes) {
    if (!set_on_cli.contains(field)) return false;
    notes.push_back({NoteLevel::info, fmt::format("{}={} is ignored because {} was given.",
                                                  found.name, found.value, flag)});
    return true;
}

void apply_kv_cache_space(EngineConfig& config, const std::set<std::string>& set_on_cli,
                          const EnvLookup& env, std::vector<ConfigNote>& notes) {
    const std::optional<Found> found = lookup(kFieldKvCacheSpace, env, notes);
    if (!found) {
        if (!set_on_cli.contains(kFieldKvCacheSpace)) {
            notes.push_back({NoteLevel::warning,
                             "Environment variable VLLM_OPENVINO_KVCACHE_SPACE (GB) for OpenVINO "
                             "backend is not set, using 4 by default."});
        }
        return;
    }
    if (command_line_wins(kFieldKvCacheSpace, set_on_cli, *found, "--kv-cache-space", notes)) {
        return;
    }
    double gigabytes = 0.0;
    const char* begin = found->value.data();
    const char* end = begin + found->value.size();
    const auto [ptr, ec] = std::from_chars(begin, end, gigabytes);
    if (ec != std::errc() || ptr != end || !std::isfinite(gigabytes) || gigabytes < 0.0) {
        throw_error("{}: '{}' is not a KV cache size in GB (expected a number >= 0; 0 means 4)",
                    found->name, found->value);
    }
    if (gigabytes == 0.0) {
        config.kv_cache_space_gb = 4.0;
        notes.push_back({NoteLevel::warning,
                         fmt::format("Environment variable {} (GB) for OpenVINO backend is not "
                                     "set, using 4 by default.",
                                     found->name)});
        return;
    }
    config.kv_cache_space_gb = gigabytes;
    notes.push_back({NoteLevel::info, fmt::format("KV cache space is set to {} GB via {} env var.",
                                                  gigabytes, found->name)});
}

void apply_kv_cache_precision(EngineConfig& config, const std::set<std::string>& set_on_cli,
                              const EnvLookup& env, std::vector<ConfigNote>& notes) {
    const std::optional<Found> found = lookup(kFieldKvCacheDtype, env, notes);
    if (!found) return;
    if (command_line_wins(kFieldKvCacheDtype, set_on_cli, *found, "--kv-cache-dtype", notes)) {
        return;
    }
    static const std::vector<std::string> kAccepted = {"u8", "i8", "f16", "bf16", "f32"};
    const std::string value = to_lower(found->value);
    if (std::find(kAccepted.begin(), kAccepted.end(), value) == kAccepted.end()) {
        throw_error("{}: '{}' is not a KV cache precision (accepted: {})", found->name,
                    found->value, fmt::join(kAccepted, ", "));
    }
    config.kv_cache_dtype = value;
    notes.push_back(
        {NoteLevel::info,
         fmt::format("KV cache type is overridden to {} via {} env var.", value, found->name)});
}

void apply_quantized_weights(EngineConfig& config, const std::set<std::string>& set_on_cli,
                             const EnvLookup& env, std::vector<ConfigNote>& notes) {
    const std::optional<Found> found = lookup(kFieldWeightFormat, env, notes);
    if (!found) return;
    if (command_line_wins(kFieldWeightFormat, set_on_cli, *found, "--weight-format", notes)) {
        return;
    }
    const std::string value = to_lower(found->value);
    if (value == "on" || value == "true" || value == "1") {
        config.weight_format = "int8";
        notes.push_back(
            {NoteLevel::info,
             fmt::format("Weights are compressed to int8 via {} env var.", found->name)});
    } else if (value == "off" || value == "false" || value == "0") {
        config.weight_format = "none";
    } else {
        throw_error("{}: '{}' is not a switch (accepted: ON, true, 1, OFF, false, 0)", found->name,
                    found->value);
    }
}

void apply_device(EngineConfig& config, const std::set<std::string>& set_on_cli,
                  const EnvLookup& env, std::vector<ConfigNote>& notes) {
    const std::optional<Found> found = lookup(kFieldDevice, env, notes);
    if (!found) return;
    if (command_line_wins(kFieldDevice, set_on_cli, *found, "--device", notes)) return;
    if (to_lower(found->value) != "cpu") {
        throw_error("{}: device '{}' is not supported (accepted: CPU)", found->name, found->value);
    }
    config.device = "CPU";
}

}  // namespace

EnvLookup process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (!value) return std::nullopt;
        return std::string(value);
    };
}

std::filesystem::path model_cache_dir(const EnvLookup& env) {
    const auto non_empty = [&](const char* name) -> std::optional<std::string> {
        auto value = env(name);
        if (value && value->empty()) value.reset();
        return value;
    };
    if (const auto dir = non_empty("OVLLM_CACHE_DIR")) return *dir;
    if (const auto xdg = non_empty("XDG_CACHE_HOME")) return std::filesystem::path(*xdg) / "ovllm";
    return std::filesystem::path(non_empty("HOME").value_or("/tmp")) / ".cache" / "ovllm";
}

bool ir_cache_disabled(const EnvLookup& env) {
    const auto value = env("OVLLM_DISABLE_IR_CACHE");
    return value && !value->empty() && *value != "0";
}

EnvLookup environment_from_map(std::map<std::string, std::string> variables) {
    return
        [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
            const auto it = variables.find(name);
            if (it == variables.end()) return std::nullopt;
            return it->second;
        };
}

std::vector<std::string> env_names_for(const std::string& field) {
    const auto vllm = vllm_names().find(field);
    if (vllm == vllm_names().end()) throw_error("no environment variable sets field '{}'", field);
    std::vector<std::string> names = {short_names().at(field)};
    for (const std::string& name : vllm->second) names.push_back("O" + name);
    for (const std::string& name : vllm->second) names.push_back(name);
    return names;
}

std::vector<ConfigNote> apply_env_config(EngineConfig& config,
                                         const std::set<std::string>& set_on_command_line,
                                         const EnvLookup& env) {
    std::vector<ConfigNote> notes;
    apply_kv_cache_space(config, set_on_command_line, env, notes);
    apply_kv_cache_precision(config, set_on_command_line, env, notes);
    apply_quantized_weights(config, set_on_command_line, env, notes);
    apply_device(config, set_on_command_line, env, notes);
    return notes;
}

namespace {

std::optional<std::string> first_set(const EnvLookup& env,
                                     std::initializer_list<const char*> names) {
    for (const char* name : names) {
        const std::optional<std::string> value = env(name);
        if (value && !value->empty()) return value;
    }
    return std::nullopt;
}

// The first line of `path` without surrounding blanks; empty when there is no such file.
std::string first_line_of(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return trimmed(line);
}

}  // namespace

HubEnvironment hub_environment(const EnvLookup& env) {
    HubEnvironment hub;
    hub.endpoint = first_set(env, {"HF_ENDPOINT"}).value_or("https://huggingface.co");
    while (hub.endpoint.size() > 1 && hub.endpoint.back() == '/') hub.endpoint.pop_back();

    const std::string home = env("HOME").value_or("");
    const std::string xdg_cache =
        first_set(env, {"XDG_CACHE_HOME"}).value_or(home.empty() ? ".cache" : home + "/.cache");
    const std::string hf_home = first_set(env, {"HF_HOME"}).value_or(xdg_cache + "/huggingface");
    hub.cache_dir =
        first_set(env, {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}).value_or(hf_home + "/hub");

    const std::string offline =
        to_lower(trimmed(first_set(env, {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}).value_or("")));
    hub.offline = offline == "1" || offline == "on" || offline == "yes" || offline == "true";

    if (const auto token = first_set(env, {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"})) {
        hub.token = trimmed(*token);
        hub.token_source = first_set(env, {"HF_TOKEN"}) ? "HF_TOKEN" : "HUGGING_FACE_HUB_TOKEN";
    } else {
        const std::string path = first_set(env, {"HF_TOKEN_PATH"}).value_or(hf_home + "/token");
        hub.token = first_line_of(path);
        if (!hub.token.empty()) hub.token_source = path;
    }
    return hub;
}

void log_notes(const std::vector<ConfigNote>& notes) {
    for (const ConfigNote& note : notes) {
        if (note.level == NoteLevel::warning) {
            OVLLM_WARN("{}", note.text);
        } else {
            OVLLM_INFO("{}", note.text);
        }
    }
}

}  // namespace ovllm::config
