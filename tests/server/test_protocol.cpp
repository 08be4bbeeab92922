// Request parsing and response building without HTTP.
#include <gtest/gtest.h>

#include "server/openai_protocol.hpp"

namespace ovllm::server {
namespace {

TEST(Protocol, PromptShapes) {
    auto request = parse_completion_request(json{{"prompt", "Hi"}});
    ASSERT_EQ(request.prompts.size(), 1u);
    EXPECT_FALSE(request.prompts[0].is_tokens);
    EXPECT_EQ(request.prompts[0].text, "Hi");

    request = parse_completion_request(json{{"prompt", {"a", "b"}}});
    ASSERT_EQ(request.prompts.size(), 2u);
    EXPECT_EQ(request.prompts[1].text, "b");

    request = parse_completion_request(json{{"prompt", {5, 6, 7}}});
    ASSERT_EQ(request.prompts.size(), 1u);
    EXPECT_TRUE(request.prompts[0].is_tokens);
    EXPECT_EQ(request.prompts[0].token_ids, (std::vector<int64_t>{5, 6, 7}));

    request = parse_completion_request(json{{"prompt", {{5}, {6, 7}}}});
    ASSERT_EQ(request.prompts.size(), 2u);
    EXPECT_EQ(request.prompts[1].token_ids, (std::vector<int64_t>{6, 7}));
}

TEST(Protocol, CompletionDefaultsAndNulls) {
    auto request = parse_completion_request(json{{"prompt", "x"}});
    EXPECT_EQ(request.params.max_tokens, 16);
    EXPECT_EQ(request.params.n, 1);
    EXPECT_FALSE(request.stream);
    EXPECT_FALSE(request.logprobs.has_value());
    // An explicit null means "up to the context limit"; 7.0 is accepted as 7.
    request = parse_completion_request(json{{"prompt", "x"}, {"max_tokens", nullptr}});
    EXPECT_FALSE(request.params.max_tokens.has_value());
    request = parse_completion_request(json{{"prompt", "x"}, {"max_tokens", 7.0}});
    EXPECT_EQ(request.params.max_tokens, 7);
    request = parse_completion_request(
        json{{"prompt", "x"}, {"stream", true}, {"stream_options", {{"include_usage", true}}}});
    EXPECT_TRUE(request.include_usage);
}

TEST(Protocol, ChatMaxCompletionTokensWinsAndLogprobs) {
    const json messages = {{{"role", "user"}, {"content", "Hi"}}};
    auto request = parse_chat_request(json{{"messages", messages}});
    EXPECT_FALSE(request.params.max_tokens.has_value());
    EXPECT_FALSE(request.params.logprobs.has_value());
    request = parse_chat_request(
        json{{"messages", messages}, {"max_tokens", 9}, {"max_completion_tokens", 4}});
    EXPECT_EQ(request.params.max_tokens, 4);
    request = parse_chat_request(json{{"messages", messages}, {"logprobs", true}});
    EXPECT_EQ(request.params.logprobs, 0);
    request =
        parse_chat_request(json{{"messages", messages}, {"logprobs", true}, {"top_logprobs", 3}});
    EXPECT_EQ(request.params.logprobs, 3);
    EXPECT_EQ(request.top_logprobs, 3);
}

TEST(Protocol, ResolveMaxTokens) {
    EXPECT_EQ(resolve_max_tokens(std::nullopt, 100, 128), 28);
    EXPECT_EQ(resolve_max_tokens(28, 100, 128), 28);
    EXPECT_THROW(resolve_max_tokens(29, 100, 128), ApiError);
    EXPECT_THROW(resolve_max_tokens(std::nullopt, 128, 128), ApiError);
    try {
        resolve_max_tokens(std::nullopt, 130, 128);
        FAIL();
    } catch (const ApiError& error) {
        EXPECT_EQ(error.status(), 400);
        EXPECT_EQ(std::string(error.what()),
                  "This model's maximum context length is 128 tokens. However, you requested 130 "
                  "tokens in the messages, Please reduce the length of the messages.");
    }
}

TEST(Protocol, ErrorJsonShape) {
    EXPECT_EQ(error_json(bad_request("bad n", "n")), json({{"error",
                                                            {{"message", "bad n"},
                                                             {"type", "BadRequestError"},
                                                             {"param", "n"},
                                                             {"code", 400}}}}));
    EXPECT_EQ(error_json(model_not_found("m"))["error"]["message"],
              "The model `m` does not exist.");
    EXPECT_EQ(error_json(unauthorized())["error"]["code"], 401);
    EXPECT_TRUE(error_json(service_unavailable("busy"))["error"]["param"].is_null());
}

TEST(Protocol, DumpJsonReplacesInvalidUtf8) {
    EXPECT_EQ(dump_json(json{{"t", std::string("a\xff")}}), "{\"t\":\"a\xef\xbf\xbd\"}");
}

TEST(Protocol, UsageAndChoices) {
    EXPECT_EQ(usage_json({3, 4, 1}), json({{"prompt_tokens", 3},
                                           {"completion_tokens", 4},
                                           {"total_tokens", 7},
                                           {"prompt_tokens_details", {{"cached_tokens", 1}}}}));
    ChoiceUpdate update;
    update.index = 2;
    update.text = "hi";
    update.finish_reason = "stop";
    update.stop_reason = 7;
    EXPECT_EQ(completion_choice_json(update), json({{"index", 2},
                                                    {"text", "hi"},
                                                    {"logprobs", nullptr},
                                                    {"finish_reason", "stop"},
                                                    {"stop_reason", 7}}));
    EXPECT_EQ(chat_delta_choice_json(update, true)["delta"],
              json({{"role", "assistant"}, {"content", "hi"}}));
    EXPECT_EQ(chat_message_choice_json(update)["message"]["content"], "hi");
    const json response =
        response_json("id-1", "text_completion", 5, "m", json::array(), std::nullopt);
    EXPECT_FALSE(response.contains("usage"));
    EXPECT_EQ(response["created"], 5);
}

TEST(Protocol, CompletionLogprobsOffsetsCountBytes) {
    std::vector<PositionLogprobs> logprobs(2);
    logprobs[0].chosen = {10, -1.0f, 1, "\xc3\xa9"};  // two bytes
    logprobs[1].chosen = {11, -std::numeric_limits<float>::infinity(), 1, "x"};
    const json result = completion_logprobs_json(logprobs, 3);
    EXPECT_EQ(result["text_offset"], json({3, 5}));
    EXPECT_EQ(result["token_logprobs"], json({-1.0, -9999.0}));
    EXPECT_EQ(chat_logprobs_json(logprobs, 0)["content"][0]["bytes"], json({0xc3, 0xa9}));
}

}  // namespace
}  // namespace ovllm::server
