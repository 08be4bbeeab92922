#pragma once
// vLLM's `structured_outputs` object (JSON) -> StructuredOutputs, shared by the command line
// (`--structured-output`) and the server.
#include <string>

#include <nlohmann/json.hpp>

#include "ovllm/sampling_params.hpp"

namespace ovllm::structured {

// Reads {"json": schema (object or text) | "json_object": true | "regex": "..." |
// "choice": [...] | "grammar": "..." | "structural_tag": object or text}. `field` names the
// object in error messages ("structured_outputs", "--structured-output"). Unknown keys are
// refused by name. Throws ovllm::Error.
// An ordered_json keeps the schema's property order, which is the order the model writes them.
StructuredOutputs structured_outputs_from_json(const nlohmann::ordered_json& value,
                                               const std::string& field);

}  // namespace ovllm::structured
