#pragma once
// Flags whose value is a JSON object, as vLLM takes them (--kv-events-config,
// --speculative-config).
#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ovllm::config {

// Parses `text` as the JSON object value of `flag` and checks that every key is one of
// `known_keys`. Throws ovllm::Error naming the flag, and the key when one is unknown:
// `--flag: unknown key "x" (known: a, b)`.
nlohmann::json parse_flag_object(std::string_view flag, std::string_view text,
                                 std::span<const std::string_view> known_keys);

}  // namespace ovllm::config
