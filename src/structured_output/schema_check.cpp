#include "structured_output/schema_check.hpp"

#include <algorithm>
#include <array>
#include <string>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace ovllm::structured {
namespace {

using Json = nlohmann::json;

// Keywords that only describe (JSON Schema "annotations"): nothing to enforce.
constexpr std::array kAnnotations = {
    "title",     "description", "default", "examples", "deprecated",       "readOnly",
    "writeOnly", "$comment",    "$schema", "$id",      "contentMediaType", "contentEncoding",
};

// Keywords xgrammar 0.2 turns into grammar rules.
constexpr std::array kEnforced = {
    "type",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
    "$defs",
    "definitions",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "unevaluatedProperties",
    "items",
    "prefixItems",
    "unevaluatedItems",
    "minItems",
    "maxItems",
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
};

// String formats xgrammar has a grammar for; any other format would match every string.
constexpr std::array kFormats = {
    "email",         "date",
    "time",          "date-time",
    "duration",      "hostname",
    "uuid",          "uri",
    "uri-reference", "uri-template",
    "ipv4",          "ipv6",
    "json-pointer",  "relative-json-pointer",
};

constexpr std::array kTypes = {"object", "array", "string", "number", "integer", "boolean", "null"};

template <size_t N>
bool listed(const std::array<const char*, N>& list, const std::string& name) {
    return std::any_of(list.begin(), list.end(), [&](const char* k) { return name == k; });
}

std::string child(const std::string& path, const std::string& key) {
    const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
    });
    return plain ? path + "." + key : path + "[" + Json(key).dump() + "]";
}

std::string index(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw_error("json schema at {}: {}", path, what);
}

void check_schema(const Json& schema, const std::string& path);

void check_named_schemas(const Json& map, const std::string& path) {
    if (!map.is_object()) fail(path, "must be an object of schemas");
    for (const auto& [name, sub] : map.items()) check_schema(sub, child(path, name));
}

void check_schema_list(const Json& list, const std::string& path) {
    if (!list.is_array() || list.empty()) fail(path, "must be a non-empty array of schemas");
    for (size_t i = 0; i < list.size(); ++i) check_schema(list[i], index(path, i));
}

void check_count(const Json& value, const std::string& path) {
    if (!value.is_number_integer() || value.get<int64_t>() < 0)
        fail(path, "must be a non-negative integer");
}

void check_type(const Json& type, const std::string& path) {
    const auto one = [&](const Json& t, const std::string& at) {
        if (!t.is_string() || !listed(kTypes, t.get<std::string>()))
            fail(at, "type must be one of object, array, string, number, integer, boolean, null");
    };
    if (!type.is_array()) return one(type, path);
    for (size_t i = 0; i < type.size(); ++i) one(type[i], index(path, i));
}

bool is_type(const Json& schema, const char* name) {
    const auto it = schema.find("type");
    if (it == schema.end()) return false;
    if (it->is_string()) return *it == name;
    return it->is_array() && std::find(it->begin(), it->end(), Json(name)) != it->end();
}

// Values of one keyword; sub-schemas recurse.
void check_keyword(const Json& schema, const std::string& key, const Json& value,
                   const std::string& at) {
    if (key == "type") return check_type(value, at);
    if (key == "properties" || key == "$defs" || key == "definitions" || key == "patternProperties")
        return check_named_schemas(value, at);
    if (key == "anyOf" || key == "oneOf" || key == "prefixItems")
        return check_schema_list(value, at);
    if (key == "allOf") {
        check_schema_list(value, at);
        // xgrammar merges only a single-entry allOf; several would be enforced in part.
        if (value.size() > 1) fail(at, "allOf with more than one schema is not supported");
        return;
    }
    if (key == "additionalProperties" || key == "unevaluatedProperties" || key == "items" ||
        key == "unevaluatedItems" || key == "propertyNames")
        return check_schema(value, at);
    if (key == "required") {
        if (!value.is_array()) fail(at, "must be an array of property names");
        for (size_t i = 0; i < value.size(); ++i)
            if (!value[i].is_string()) fail(index(at, i), "must be a property name (string)");
        return;
    }
    if (key == "enum" && (!value.is_array() || value.empty()))
        fail(at, "must be a non-empty array");
    if (key == "$ref" && (!value.is_string() || !value.get<std::string>().starts_with("#")))
        fail(at, "only local references (\"#/...\") are supported");
    if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength" ||
        key == "minProperties" || key == "maxProperties")
        check_count(value, at);
    if ((key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
         key == "exclusiveMaximum" || key == "multipleOf") &&
        !value.is_number())
        fail(at, "must be a number");
    if ((key == "pattern" || key == "format") && !value.is_string()) fail(at, "must be a string");
    if (key == "format" && !listed(kFormats, value.get<std::string>()))
        fail(at, "format '" + value.get<std::string>() + "' is not supported");
    if (key == "multipleOf" && !(is_type(schema, "integer") && value.is_number_integer()))
        fail(at, "keyword 'multipleOf' is supported only as an integer on type integer");
    if ((key == "minLength" || key == "maxLength") &&
        (schema.contains("pattern") || schema.contains("format")))
        fail(at, "keyword '" + key + "' together with pattern or format is not supported");
}

void check_schema(const Json& schema, const std::string& path) {
    if (schema.is_boolean()) return;
    if (!schema.is_object()) fail(path, "a schema must be an object or a boolean");
    for (const auto& [key, value] : schema.items()) {
        if (listed(kAnnotations, key)) continue;
        if (!listed(kEnforced, key)) fail(path, "keyword '" + key + "' is not supported");
        check_keyword(schema, key, value, child(path, key));
    }
}

// 1-based line and column of byte `offset` in `text`.
std::string line_column(std::string_view text, size_t offset) {
    offset = std::min(offset, text.size());
    const std::string_view before = text.substr(0, offset);
    const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
    const size_t last_newline = before.rfind('\n');
    const size_t column =
        last_newline == std::string_view::npos ? offset + 1 : offset - last_newline;
    return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace

void check_json_schema(std::string_view schema_text) {
    Json schema;
    try {
        schema = Json::parse(schema_text);
    } catch (const Json::parse_error& e) {
        // nlohmann's byte is 1-based and points just past the offending character.
        throw_error("json schema is not valid JSON at {}: {}",
                    line_column(schema_text, e.byte > 0 ? e.byte - 1 : 0), e.what());
    }
    check_schema(schema, "$");
}

}  // namespace ovllm::structured
