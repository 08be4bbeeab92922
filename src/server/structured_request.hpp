#pragma once
// The request fields that ask for structured output, in every form vLLM's server accepts:
//   response_format {"type": "json_object"} / {"type": "json_schema", "json_schema": {...}}
//   / {"type": "structural_tag", ...}; structured_outputs {json, regex, choice, grammar,
//   structural_tag, json_object}; the older guided_json / guided_regex / guided_choice /
//   guided_grammar.
#include <optional>

#include <nlohmann/json.hpp>

#include "ovllm/sampling_params.hpp"

namespace ovllm::server {

// nullopt when the request asks for none (or response_format "text"). A 400 ApiError naming
// the field for a malformed form, two forms at once, or an invalid JSON schema (with its
// JSON path, e.g. "$.properties.age"); regexes and grammars are checked when compiled.
std::optional<StructuredOutputs> parse_structured_outputs(const nlohmann::json& body);

}  // namespace ovllm::server
