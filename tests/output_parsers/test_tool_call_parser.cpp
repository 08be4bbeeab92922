// Tool-call parsers on scripted outputs in each model family's format.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "error_pieces.hpp"
#include "output_parsers/python_literal.hpp"
#include "output_parsers/tool_call_parser.hpp"
#include "output_parsers/tool_choice.hpp"

namespace {

using nlohmann::json;
using ovllm::parsers::ToolCallParser;
using ovllm::parsers::ToolCallResult;

ToolCallResult extract(const char* parser, const std::string& text) {
    return ToolCallParser::create(parser)->extract(text);
}

void expect_call(const ToolCallResult& r, size_t i, const std::string& name, const json& args) {
    ASSERT_GT(r.calls.size(), i);
    EXPECT_EQ(r.calls[i].name, name);
    EXPECT_EQ(json::parse(r.calls[i].arguments), args);
}

TEST(ToolCallParser, HermesQwenFormat) {
    // What Qwen2.5's chat template asks the model to write.
    const ToolCallResult r =
        extract("hermes",
                "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                "\"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": "
                "{}}\n</tool_call>");
    EXPECT_EQ(r.content, "Let me check.\n");
    ASSERT_EQ(r.calls.size(), 2u);
    expect_call(r, 0, "get_weather", {{"city", "Paris"}});
    expect_call(r, 1, "get_time", json::object());
    EXPECT_TRUE(std::regex_match(r.calls[0].id, std::regex("call_[0-9A-Za-z]{24}")));
    EXPECT_NE(r.calls[0].id, r.calls[1].id);
}

TEST(ToolCallParser, HermesUnclosedAtTheEndAndMalformed) {
    ToolCallResult r = extract("hermes", "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}}");
    EXPECT_FALSE(r.content);
    expect_call(r, 0, "f", {{"a", 1}});
    r = extract("hermes", "<tool_call>{\"name\": broken</tool_call>");
    EXPECT_TRUE(r.calls.empty());
    EXPECT_EQ(r.content, "<tool_call>{\"name\": broken</tool_call>");
    r = extract("hermes", "no calls here");
    EXPECT_TRUE(r.calls.empty());
    EXPECT_EQ(r.content, "no calls here");
}

TEST(ToolCallParser, Llama3Json) {
    ToolCallResult r = extract(
        "llama3_json",
        "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"x\": \"}; {\"}}; {\"name\": \"b\", "
        "\"parameters\": {}}");
    EXPECT_FALSE(r.content);
    ASSERT_EQ(r.calls.size(), 2u);
    expect_call(r, 0, "a", {{"x", "}; {"}});
    expect_call(r, 1, "b", json::object());
    r = extract("llama3_json", "The answer is {not json}");
    EXPECT_TRUE(r.calls.empty());
}

TEST(ToolCallParser, MistralBothFormats) {
    ToolCallResult r = extract(
        "mistral", "Sure.[TOOL_CALLS] [{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}]");
    EXPECT_EQ(r.content, "Sure.");
    expect_call(r, 0, "add", {{"a", 1}, {"b", 2}});
    EXPECT_TRUE(std::regex_match(r.calls[0].id, std::regex("[A-Za-z0-9]{9}")));
    r = extract("mistral", "[TOOL_CALLS]add[ARGS]{\"a\": 1}[TOOL_CALLS]neg[ARGS]{\"x\": -3}");
    ASSERT_EQ(r.calls.size(), 2u);
    expect_call(r, 0, "add", {{"a", 1}});
    expect_call(r, 1, "neg", {{"x", -3}});
}

TEST(ToolCallParser, Pythonic) {
    const ToolCallResult r = extract(
        "pythonic",
        "[get_weather(city='San Francisco', metric=True, days=3, ratio=0.5, tags=['a', \"b\"], "
        "opts={'x': None}), ping()]");
    EXPECT_FALSE(r.content);
    ASSERT_EQ(r.calls.size(), 2u);
    expect_call(r, 0, "get_weather",
                {{"city", "San Francisco"},
                 {"metric", true},
                 {"days", 3},
                 {"ratio", 0.5},
                 {"tags", {"a", "b"}},
                 {"opts", {{"x", nullptr}}}});
    expect_call(r, 1, "ping", json::object());
    for (const char* text : {"[f(x=1)] trailing", "f(x=1)", "[f(1)]", "[f(x=undefined)]", "[]"})
        EXPECT_TRUE(extract("pythonic", text).calls.empty()) << text;
}

TEST(ToolCallParser, UnknownName) {
    ovllm::test::expect_error([] { ToolCallParser::create("jamba"); }, {"jamba", "hermes"});
}

}  // namespace

namespace {

using ovllm::parsers::calls_from_constrained_output;
using ovllm::parsers::tool_choice_schema;

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
  {"type": "function", "function": {"name": "get_time"}}
])");

TEST(ToolChoice, NamedFunctionConstrainsToItsParameters) {
    const json choice = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
    EXPECT_EQ(json::parse(tool_choice_schema(kTools, choice)), kTools[0]["function"]["parameters"]);
    const auto calls = calls_from_constrained_output(R"({"city": "Oslo"})", choice);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].name, "get_weather");
    EXPECT_EQ(json::parse(calls[0].arguments), json({{"city", "Oslo"}}));
    ovllm::test::expect_error(
        [&] {
            tool_choice_schema(kTools, {{"type", "function"}, {"function", {{"name", "nope"}}}});
        },
        {"'nope'", "not in tools"});
}

TEST(ToolChoice, RequiredIsAListOfKnownCalls) {
    const json schema = json::parse(tool_choice_schema(kTools, "required"));
    EXPECT_EQ(schema["minItems"], 1);
    const json& any_of = schema["items"]["anyOf"];
    ASSERT_EQ(any_of.size(), 2u);
    EXPECT_EQ(any_of[0]["properties"]["name"]["enum"], json({"get_weather"}));
    EXPECT_EQ(any_of[0]["properties"]["parameters"], kTools[0]["function"]["parameters"]);
    // A tool without parameters takes an empty object.
    EXPECT_EQ(any_of[1]["properties"]["parameters"]["type"], "object");
    const auto calls = calls_from_constrained_output(
        R"([{"name": "get_time", "parameters": {}}, {"name": "get_weather", "parameters": {"city": "Rome"}}])",
        "required");
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[1].name, "get_weather");
    EXPECT_EQ(json::parse(calls[1].arguments), json({{"city", "Rome"}}));
    ovllm::test::expect_error(
        [&] {
            tool_choice_schema(json::array({{{"type", "function"}}}), "required");
        },
        {"tools[0].function"});
}

}  // namespace
