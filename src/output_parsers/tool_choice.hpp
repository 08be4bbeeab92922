#pragma once
// tool_choice "required" and a named function, as vLLM does them: decoding is constrained by
// a JSON schema built from the request's `tools`, so the calls are always valid JSON for the
// functions' parameters, and the output is read back as calls.
//   named     the output is the function's arguments object (its `parameters` schema)
//   required  the output is [{"name": ..., "parameters": {...}}, ...], at least one call,
//             each name one of the tools with its own parameters schema
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "output_parsers/tool_call_parser.hpp"

namespace ovllm::parsers {

// The JSON schema text for `tool_choice` ("required" or {"type": "function", "function":
// {"name": ...}}) over OpenAI-style `tools`. Throws ovllm::Error naming the missing function
// or the malformed tools entry ("tools[2].function.name").
std::string tool_choice_schema(const nlohmann::json& tools, const nlohmann::json& tool_choice);

// The constrained output read back as calls. Throws ovllm::Error when it is not JSON.
std::vector<ToolCall> calls_from_constrained_output(std::string_view text,
                                                    const nlohmann::json& tool_choice);

}  // namespace ovllm::parsers
