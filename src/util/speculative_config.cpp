#include "util/speculative_config.hpp"

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/json_flag.hpp"

namespace ovllm::config {
namespace {

constexpr const char* kFlag = "--speculative-config";
constexpr int kDefaultLookup = 5;  // vLLM's prompt_lookup_max default
// Drafts per step at most: each one is another row through the lm_head and the sampler.
constexpr int kMaxSpeculativeTokens = 32;

int read_int(const nlohmann::json& json, const char* key, int fallback) {
    const auto found = json.find(key);
    if (found == json.end() || found->is_null()) return fallback;
    if (!found->is_number_integer())
        throw_error("{}: \"{}\" must be an integer (got {})", kFlag, key, found->dump());
    return found->get<int>();
}

}  // namespace

SpeculativeConfig parse_speculative_config(std::string_view text) {
    static constexpr std::array<std::string_view, 4> kKeys = {
        "method", "num_speculative_tokens", "prompt_lookup_max", "prompt_lookup_min"};
    const nlohmann::json json = parse_flag_object(kFlag, text, kKeys);
    SpeculativeConfig config;
    const auto method = json.find("method");
    if (method == json.end() || !method->is_string())
        throw_error("{}: \"method\" must be given as a string (supported: \"ngram\")", kFlag);
    config.method = method->get<std::string>();
    if (config.method == "[ngram]") config.method = "ngram";  // vLLM's older spelling
    if (config.method != "ngram")
        throw_error("{}: method \"{}\" is not supported (supported: \"ngram\")", kFlag,
                    config.method);
    config.num_speculative_tokens = read_int(json, "num_speculative_tokens", -1);
    if (config.num_speculative_tokens < 1 || config.num_speculative_tokens > kMaxSpeculativeTokens)
        throw_error("{}: \"num_speculative_tokens\" must be given, in [1, {}] (got {})", kFlag,
                    kMaxSpeculativeTokens,
                    json.value("num_speculative_tokens", nlohmann::json()).dump());
    const int max_given = read_int(json, "prompt_lookup_max", 0);
    const int min_given = read_int(json, "prompt_lookup_min", 0);
    config.prompt_lookup_max = max_given ? max_given : (min_given ? min_given : kDefaultLookup);
    config.prompt_lookup_min = min_given ? min_given : config.prompt_lookup_max;
    if (config.prompt_lookup_min < 1)
        throw_error("{}: \"prompt_lookup_min\" must be >= 1 (got {})", kFlag,
                    config.prompt_lookup_min);
    if (config.prompt_lookup_max < config.prompt_lookup_min)
        throw_error("{}: \"prompt_lookup_max\" ({}) must be >= \"prompt_lookup_min\" ({})", kFlag,
                    config.prompt_lookup_max, config.prompt_lookup_min);
    return config;
}

std::string describe(const SpeculativeConfig& config) {
    if (!config.enabled()) return "None";
    return fmt::format(
        "SpeculativeConfig(method='{}', num_spec_tokens={}, prompt_lookup_max={}, "
        "prompt_lookup_min={})",
        config.method, config.num_speculative_tokens, config.prompt_lookup_max,
        config.prompt_lookup_min);
}

}  // namespace ovllm::config
