#include "server/structured_request.hpp"

#include <string>
#include <utility>
#include <vector>

#include "server/openai_protocol.hpp"
#include "structured_output/request_forms.hpp"
#include "structured_output/schema_check.hpp"
#include "util/error.hpp"

namespace ovllm::server {
namespace {

// One form as it came, with the field to name in errors.
struct Found {
    StructuredOutputs form;
    std::string param;
};

std::optional<Found> from_response_format(const json& body) {
    const auto it = body.find("response_format");
    if (it == body.end() || it->is_null()) return std::nullopt;
    const json& format = *it;
    if (!format.is_object() || !format.contains("type") || !format["type"].is_string())
        throw bad_request("response_format must be an object with a string `type`",
                          "response_format");
    const std::string type = format["type"].get<std::string>();
    Found found{{}, "response_format"};
    if (type == "text") return std::nullopt;
    if (type == "json_object") {
        found.form.json_object = true;
    } else if (type == "json_schema") {
        const auto spec = format.find("json_schema");
        if (spec == format.end() || !spec->is_object())
            throw bad_request("response_format.json_schema must be an object",
                              "response_format.json_schema");
        // OpenAI puts the schema under "schema"; some clients send it as "json_schema".
        const json* schema = spec->contains("schema") ? &(*spec)["schema"] : nullptr;
        if (schema == nullptr || !(schema->is_object() || schema->is_boolean()))
            throw bad_request("response_format.json_schema.schema must be a JSON Schema object",
                              "response_format.json_schema.schema");
        found.form.json = schema->dump();
        found.param = "response_format.json_schema.schema";
    } else if (type == "structural_tag") {
        found.form.structural_tag = format.dump();
    } else {
        throw bad_request(fmt::format("response_format type `{}` is not supported; use text, "
                                      "json_object, json_schema or structural_tag",
                                      type),
                          "response_format.type");
    }
    return found;
}

std::optional<Found> from_structured_outputs(const json& body) {
    const auto it = body.find("structured_outputs");
    if (it == body.end() || it->is_null()) return std::nullopt;
    try {
        return Found{structured::structured_outputs_from_json(*it, "structured_outputs"),
                     "structured_outputs"};
    } catch (const Error& e) {
        throw bad_request(e.what(), "structured_outputs");
    }
}

// guided_json, guided_regex, guided_choice, guided_grammar: vLLM's older top-level fields.
std::vector<Found> from_guided(const json& body) {
    std::vector<Found> found;
    for (const char* name : {"guided_json", "guided_regex", "guided_choice", "guided_grammar"}) {
        const auto it = body.find(name);
        if (it == body.end() || it->is_null()) continue;
        const std::string key = std::string(name).substr(7);  // json, regex, choice, grammar
        try {
            found.push_back(
                {structured::structured_outputs_from_json(json{{key, *it}}, name), name});
        } catch (const Error& e) {
            // The message names "<name>.<key>"; the field itself is what the client sent.
            std::string message = e.what();
            const std::string prefix = std::string(name) + "." + key;
            if (message.starts_with(prefix)) message = name + message.substr(prefix.size());
            throw bad_request(message, name);
        }
    }
    for (const char* name : {"guided_whitespace_pattern", "guided_decoding_backend"}) {
        const auto it = body.find(name);
        if (it != body.end() && !it->is_null())
            throw bad_request(fmt::format("{} is not supported", name), name);
    }
    return found;
}

}  // namespace

std::optional<StructuredOutputs> parse_structured_outputs(const json& body) {
    std::vector<Found> found = from_guided(body);
    if (auto f = from_response_format(body)) found.push_back(std::move(*f));
    if (auto f = from_structured_outputs(body)) found.push_back(std::move(*f));
    if (found.empty()) return std::nullopt;
    if (found.size() > 1)
        throw bad_request(fmt::format("{} and {} both ask for structured output; give one",
                                      found[0].param, found[1].param),
                          found[1].param);
    Found& one = found.front();
    if (one.form.json) {
        try {
            structured::check_json_schema(*one.form.json);
        } catch (const Error& e) {
            throw bad_request(e.what(), one.param);
        }
    }
    return std::move(one.form);
}

}  // namespace ovllm::server
