// The JSON Schema pre-check: keywords xgrammar would skip are refused by name, with the path.
#include <gtest/gtest.h>

#include "error_pieces.hpp"
#include "structured_output/request_forms.hpp"
#include "structured_output/schema_check.hpp"

namespace {

using ovllm::structured::check_json_schema;
using ovllm::test::expect_error;

TEST(SchemaCheck, AcceptsWhatXgrammarEnforces) {
    EXPECT_NO_THROW(check_json_schema(R"({
        "title": "Person", "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 20},
            "age": {"type": "integer", "minimum": 0, "maximum": 150, "multipleOf": 5},
            "email": {"type": "string", "format": "email"},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 1, "maxItems": 3},
            "pet": {"anyOf": [{"$ref": "#/$defs/dog"}, {"type": "null"}]}
        },
        "required": ["name"], "additionalProperties": false,
        "$defs": {"dog": {"type": "object", "properties": {"bark": {"type": "boolean"}}}}
    })"));
    EXPECT_NO_THROW(check_json_schema("true"));
}

TEST(SchemaCheck, RefusesUnsupportedKeywordsByNameAndPath) {
    expect_error([] { check_json_schema(R"({"type": "array", "uniqueItems": true})"); },
                 {"at $:", "'uniqueItems' is not supported"});
    expect_error(
        [] {
            check_json_schema(R"({"properties": {"n": {"type": "number", "multipleOf": 0.5}}})");
        },
        {"$.properties.n.multipleOf", "multipleOf"});
    expect_error([] { check_json_schema(R"({"properties": {"x y": {"not": {}}}})"); },
                 {"$.properties[\"x y\"]", "'not'"});
    expect_error([] { check_json_schema(R"({"type": "string", "format": "ipv5"})"); },
                 {"$.format", "format 'ipv5' is not supported"});
    expect_error(
        [] { check_json_schema(R"({"type": "string", "pattern": "a+", "maxLength": 3})"); },
        {"$.maxLength", "together with pattern"});
    expect_error([] { check_json_schema(R"({"allOf": [{}, {}]})"); }, {"$.allOf", "allOf"});
    expect_error([] { check_json_schema(R"({"requird": ["a"]})"); }, {"'requird'"});
}

TEST(SchemaCheck, InvalidValuesNameTheirPath) {
    expect_error([] { check_json_schema(R"({"items": {"type": "strin"}})"); },
                 {"$.items.type", "type must be one of"});
    expect_error([] { check_json_schema(R"({"type": "array", "minItems": -1})"); },
                 {"$.minItems", "non-negative integer"});
    expect_error([] { check_json_schema(R"({"anyOf": [{"type": "string"}, 3]})"); },
                 {"$.anyOf[1]", "object or a boolean"});
    expect_error([] { check_json_schema(R"({"required": "a"})"); }, {"$.required"});
    expect_error([] { check_json_schema(R"({"$ref": "http://x/y"})"); }, {"$.$ref", "local"});
    expect_error([] { check_json_schema("{\n  \"type\": }"); }, {"not valid JSON at 2:11"});
}

TEST(StructuredOutputsJson, ReadsVllmForms) {
    using ovllm::structured::structured_outputs_from_json;
    const auto so = structured_outputs_from_json(
        nlohmann::json::parse(R"({"json": {"type": "integer"}, "disable_fallback": true})"),
        "structured_outputs");
    ASSERT_TRUE(so.json);
    EXPECT_EQ(nlohmann::json::parse(*so.json), nlohmann::json::parse(R"({"type": "integer"})"));
    EXPECT_EQ(structured_outputs_from_json(nlohmann::json::parse(R"({"choice": ["a", "b"]})"), "s")
                  .choice->size(),
              2u);
    // The schema keeps its property order: the model writes properties in that order.
    EXPECT_EQ(*structured_outputs_from_json(
                   nlohmann::ordered_json::parse(
                       R"({"json": {"type": "object", "properties": {"b": {}, "a": {}}}})"),
                   "s")
                   .json,
              R"({"type":"object","properties":{"b":{},"a":{}}})");
    expect_error(
        [&] {
            structured_outputs_from_json(nlohmann::json::parse(R"({"regex": "a", "grammar": "b"})"),
                                         "structured_outputs");
        },
        {"structured_outputs must set exactly one", "got 2"});
    expect_error(
        [&] {
            structured_outputs_from_json(nlohmann::json::parse(R"({"whitespace_pattern": " "})"),
                                         "structured_outputs");
        },
        {"structured_outputs.whitespace_pattern is not supported"});
    expect_error(
        [&] {
            structured_outputs_from_json(nlohmann::json::parse(R"({"choice": ["a", 1]})"), "so");
        },
        {"so.choice[1] must be a string"});
}

}  // namespace
