// Streamed tool calls against the whole-output parsers: whatever the delta sizes, the deltas
// assemble to the same content and calls, each call's id and name come first, and hermes
// arguments stream before the call is complete.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "output_parsers/tool_call_stream.hpp"

namespace {

using nlohmann::json;
using ovllm::parsers::ToolCallParser;
using ovllm::parsers::ToolCallStream;
using ovllm::parsers::ToolStreamDelta;

struct Assembled {
    std::string content;
    std::vector<std::string> names;
    std::vector<std::string> arguments;
};

// Folds deltas the way an OpenAI client does, checking the order rules on the way.
void fold(const ToolStreamDelta& delta, Assembled& out) {
    out.content += delta.content;
    for (const auto& call : delta.calls) {
        if (call.name) {
            ASSERT_EQ(call.index, static_cast<int>(out.names.size())) << "calls start in order";
            ASSERT_TRUE(call.id && !call.id->empty());
            EXPECT_TRUE(call.arguments.empty()) << "the header carries no arguments";
            out.names.push_back(*call.name);
            out.arguments.emplace_back();
        } else {
            ASSERT_EQ(call.index + 1, static_cast<int>(out.names.size()))
                << "fragments follow their own call's header";
            out.arguments.back() += call.arguments;
        }
    }
}

Assembled stream(const char* parser, std::string_view text, size_t step) {
    ToolCallStream stream(ToolCallParser::create(parser));
    Assembled out;
    for (size_t at = 0; at < text.size(); at += step) fold(stream.feed(text.substr(at, step)), out);
    fold(stream.finish(), out);
    return out;
}

// Streams `text` in deltas of 1 to 7 bytes and compares with the whole-output parser.
void expect_same_as_whole(const char* parser, const std::string& text) {
    const auto whole = ToolCallParser::create(parser)->extract(text);
    for (size_t step = 1; step <= 7; ++step) {
        SCOPED_TRACE(::testing::Message() << parser << " step " << step);
        const Assembled got = stream(parser, text, step);
        ASSERT_EQ(got.names.size(), whole.calls.size());
        for (size_t i = 0; i < got.names.size(); ++i) {
            EXPECT_EQ(got.names[i], whole.calls[i].name);
            const json args = json::parse(got.arguments[i], nullptr, false);
            ASSERT_FALSE(args.is_discarded()) << got.arguments[i];
            EXPECT_EQ(args, json::parse(whole.calls[i].arguments));
        }
        EXPECT_EQ(got.content, whole.content.value_or(""));
    }
}

TEST(ToolCallStream, AssemblesLikeTheWholeOutputParsers) {
    expect_same_as_whole("hermes",
                         "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                         "{\"city\": \"Pa}ris\", \"days\": [1, {\"x\": \"<\"}]}}\n</tool_call>\n"
                         "<tool_call>\n{\"arguments\": {}, \"name\": \"get_time\"}\n</tool_call>");
    expect_same_as_whole("hermes", "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}}");
    expect_same_as_whole("hermes", "plain text with < and <tool and no call");
    expect_same_as_whole("llama3_json",
                         "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"x\": \"}; {\"}}; "
                         "{\"name\": \"b\", \"parameters\": {}}");
    expect_same_as_whole("llama3_json", "  Just text {not a call}");
    expect_same_as_whole("mistral",
                         "Sure. [TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"a\": [1, 2]}}]");
    expect_same_as_whole("mistral", "[TOOL_CALLS]f[ARGS]{\"a\": 1}[TOOL_CALLS]g[ARGS]{}");
    expect_same_as_whole("pythonic", "[get_weather(city=\"Paris\", days=3), now()]");
    expect_same_as_whole("pythonic", "[not python at all");
}

TEST(ToolCallStream, HermesArgumentsStreamBeforeTheCallCloses) {
    ToolCallStream stream(ToolCallParser::create("hermes"));
    Assembled out;
    fold(stream.feed("<tool_call>\n{\"name\": \"get_weather\", "), out);
    EXPECT_TRUE(out.names.empty()) << "no name before the arguments key confirms the form";
    fold(stream.feed("\"arguments\": {\"city\": \"Pa"), out);
    ASSERT_EQ(out.names, std::vector<std::string>{"get_weather"});
    EXPECT_EQ(out.arguments[0], "{\"city\": \"Pa");
    fold(stream.feed("ris\"}}\n</tool_call>"), out);
    EXPECT_EQ(out.arguments[0], "{\"city\": \"Paris\"}") << "the outer } is not an argument";
    fold(stream.finish(), out);
    EXPECT_EQ(out.content, "");
    EXPECT_EQ(out.names.size(), 1u);
}

TEST(ToolCallStream, MalformedCallsComeBackAsContent) {
    const std::string text = "Hi <tool_call>{\"name\": broken</tool_call>";
    const Assembled got = stream("hermes", text, 4);
    EXPECT_TRUE(got.names.empty());
    EXPECT_EQ(got.content, text);
}

}  // namespace
