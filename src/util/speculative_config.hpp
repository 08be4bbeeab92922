#pragma once
// vLLM's --speculative-config JSON, e.g.
//   '{"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 4}'
// Only the n-gram (prompt lookup) method exists on CPU; every other method, and every key
// ovllm would silently ignore, is a clear error naming the key.
#include <string>
#include <string_view>

#include "ovllm/config.hpp"

namespace ovllm::config {

// Throws ovllm::Error naming --speculative-config and the offending key or value.
// Defaults as vLLM's: prompt_lookup_max 5 and prompt_lookup_min = prompt_lookup_max when
// only one is given (both 5 when neither is).
SpeculativeConfig parse_speculative_config(std::string_view json);

// The config as vLLM's start-up line shows it: "None" when off.
std::string describe(const SpeculativeConfig& config);

}  // namespace ovllm::config
