// Reasoning parsers on scripted model outputs (none of the test models thinks), whole and
// streamed in every split of the text, which must give the same reasoning and content.
#include <gtest/gtest.h>

#include <string>

#include "error_pieces.hpp"
#include "output_parsers/reasoning_parser.hpp"

namespace {

using ovllm::parsers::ReasoningParser;
using ovllm::parsers::ReasoningSplit;

// A Qwen3 chat-template turn with thinking on: the model writes the <think> block itself.
const std::string kQwen3Output =
    "<think>\nThe user wants 2+2. That is 4.\n</think>\n\nThe answer is 4.";

ReasoningSplit whole(const char* parser, const std::string& text) {
    return ReasoningParser::create(parser)->split(text);
}

// Streams `text` as deltas of `chunk` bytes and joins the parts.
ReasoningSplit streamed(const char* parser, const std::string& text, size_t chunk) {
    auto p = ReasoningParser::create(parser);
    ReasoningSplit joined;
    auto add = [&](const ReasoningSplit& part) {
        if (part.reasoning) joined.reasoning = joined.reasoning.value_or("") + *part.reasoning;
        if (part.content) joined.content = joined.content.value_or("") + *part.content;
    };
    for (size_t at = 0; at < text.size(); at += chunk) add(p->feed(text.substr(at, chunk)));
    add(p->finish());
    return joined;
}

TEST(ReasoningParser, Qwen3SplitsTheThinkBlock) {
    const ReasoningSplit out = whole("qwen3", kQwen3Output);
    EXPECT_EQ(out.reasoning, "\nThe user wants 2+2. That is 4.\n");
    EXPECT_EQ(out.content, "\n\nThe answer is 4.");
}

TEST(ReasoningParser, Qwen3WithoutThinkingIsAllContent) {
    const ReasoningSplit out = whole("qwen3", "Just 4.");
    EXPECT_FALSE(out.reasoning);
    EXPECT_EQ(out.content, "Just 4.");
}

TEST(ReasoningParser, Qwen3EndTagOnlyWhenThePromptOpenedThink) {
    const std::string text = "thinking...</think>done";
    const ReasoningSplit out = ReasoningParser::create("qwen3", true)->split(text);
    EXPECT_EQ(out.reasoning, "thinking...");
    EXPECT_EQ(out.content, "done");
    // Not opened anywhere: the tag is just text.
    EXPECT_EQ(whole("qwen3", text).content, text);
    EXPECT_EQ(whole("qwen3", "<think>cut off").reasoning, "cut off");
}

TEST(ReasoningParser, DeepSeekR1IsReasoningUntilTheEndTag) {
    ReasoningSplit out = whole("deepseek_r1", "Let me think");
    EXPECT_EQ(out.reasoning, "Let me think");
    EXPECT_FALSE(out.content);
    out = whole("deepseek_r1", "<think>a</think>b");
    EXPECT_EQ(out.reasoning, "a");
    EXPECT_EQ(out.content, "b");
    out = whole("deepseek_r1", "a</think>");
    EXPECT_EQ(out.reasoning, "a");
    EXPECT_FALSE(out.content);  // vLLM sends null content, not ""
}

TEST(ReasoningParser, StreamingMatchesWholeForEveryChunkSize) {
    for (const char* parser : {"qwen3", "deepseek_r1"}) {
        for (const std::string& text :
             {kQwen3Output, std::string("plain answer"), std::string("x</think>y"),
              std::string("<think>only thinking"), std::string("<thin"),
              std::string("<think>a <think> b</think>c")}) {
            const ReasoningSplit expected = whole(parser, text);
            for (size_t chunk = 1; chunk <= text.size(); ++chunk) {
                SCOPED_TRACE(std::string(parser) + " chunk " + std::to_string(chunk) + ": " + text);
                const ReasoningSplit got = streamed(parser, text, chunk);
                EXPECT_EQ(got.reasoning, expected.reasoning);
                EXPECT_EQ(got.content, expected.content);
            }
        }
    }
}

TEST(ReasoningParser, UnknownNameListsTheKnownOnes) {
    ovllm::test::expect_error([] { ReasoningParser::create("granite"); },
                              {"granite", "qwen3", "deepseek_r1"});
}

}  // namespace
