#include "structured_output/request_forms.hpp"

#include "util/error.hpp"

namespace ovllm::structured {
namespace {

// A schema or tag may come as a JSON object or as its text.
std::string json_text(const nlohmann::ordered_json& value, const std::string& at) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() || value.is_boolean()) return value.dump();
    throw_error("{} must be a JSON object or a string holding one", at);
}

std::string string_field(const nlohmann::ordered_json& value, const std::string& at) {
    if (!value.is_string()) throw_error("{} must be a string", at);
    return value.get<std::string>();
}

}  // namespace

StructuredOutputs structured_outputs_from_json(const nlohmann::ordered_json& value,
                                               const std::string& field) {
    if (!value.is_object()) throw_error("{} must be a JSON object", field);
    StructuredOutputs so;
    for (const auto& [key, item] : value.items()) {
        const std::string at = field + "." + key;
        if (item.is_null()) continue;  // vLLM's clients send unset fields as null
        if (key == "json") {
            so.json = json_text(item, at);
        } else if (key == "json_object") {
            if (!item.is_boolean()) throw_error("{} must be a boolean", at);
            so.json_object = item.get<bool>();
        } else if (key == "regex") {
            so.regex = string_field(item, at);
        } else if (key == "grammar") {
            so.grammar = string_field(item, at);
        } else if (key == "structural_tag") {
            so.structural_tag = json_text(item, at);
        } else if (key == "choice") {
            if (!item.is_array()) throw_error("{} must be an array of strings", at);
            std::vector<std::string> choices;
            for (size_t i = 0; i < item.size(); ++i)
                choices.push_back(string_field(item[i], fmt::format("{}[{}]", at, i)));
            so.choice = std::move(choices);
        } else if (key == "disable_fallback" || key == "disable_any_whitespace") {
            // One backend, so nothing to fall back from; JSON output is always compact.
            if (!item.is_boolean()) throw_error("{} must be a boolean", at);
        } else {
            throw_error("{} is not supported", at);
        }
    }
    if (so.forms_set() != 1)
        throw_error(
            "{} must set exactly one of json, json_object, regex, choice, grammar, "
            "structural_tag; got {}",
            field, so.forms_set());
    return so;
}

}  // namespace ovllm::structured
