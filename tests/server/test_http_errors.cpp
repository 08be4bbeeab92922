// Every error answer over HTTP: status, OpenAI error body, vLLM's messages.
#include "server_fixture.hpp"

namespace ovllm::server::test {
namespace {

using ErrorsTest = ServerTest;

TEST_F(ErrorsTest, MalformedJsonIs400) {
    const json error = expect_error(post("/v1/completions", std::string("{\"prompt\": ")), 400);
    EXPECT_EQ(error["type"], "BadRequestError");
    EXPECT_EQ(error["message"], "Request body is not valid JSON.");
    expect_error(post("/v1/chat/completions", std::string("[1, 2]")), 400);
    expect_error(post("/v1/chat/completions", std::string("")), 400);
}

struct WrongField {
    std::string endpoint;
    json body;
    std::string param;
    std::string message_part;
};

TEST_F(ErrorsTest, WrongTypesAndRangesName400Field) {
    const json messages = {{{"role", "user"}, {"content", "Hi"}}};
    const std::vector<WrongField> cases = {
        {"/v1/completions",
         {{"prompt", "x"}, {"max_tokens", "5"}},
         "max_tokens",
         "max_tokens: Input should be a valid integer, got string."},
        {"/v1/completions",
         {{"prompt", "x"}, {"max_tokens", 0}},
         "max_tokens",
         "max_tokens must be at least 1, got 0."},
        {"/v1/completions", {{"prompt", "x"}, {"max_tokens", 2.5}}, "max_tokens", "integer"},
        {"/v1/completions", {{"prompt", "x"}, {"temperature", "hot"}}, "temperature", "number"},
        {"/v1/completions",
         {{"prompt", "x"}, {"temperature", -1}},
         "temperature",
         "temperature must be non-negative, got -1."},
        {"/v1/completions", {{"prompt", "x"}, {"top_p", 0}}, "top_p", "in (0, 1]"},
        {"/v1/completions", {{"prompt", "x"}, {"n", 0}}, "n", "n must be in [1, 128], got 0."},
        {"/v1/completions", {{"prompt", "x"}, {"stop", 5}}, "stop", "string or list of strings"},
        {"/v1/completions", {{"prompt", "x"}, {"stop", {"a", 1}}}, "stop", "list of strings"},
        {"/v1/completions", {{"prompt", "x"}, {"seed", "1"}}, "seed", "integer"},
        {"/v1/completions", {{"prompt", "x"}, {"logprobs", 21}}, "logprobs", "in [0, 20]"},
        {"/v1/completions", {{"prompt", "x"}, {"logprobs", true}}, "logprobs", "integer"},
        {"/v1/completions", {{"prompt", "x"}, {"echo", "yes"}}, "echo", "boolean"},
        {"/v1/completions", {{"prompt", "x"}, {"stream", 1}}, "stream", "boolean"},
        {"/v1/completions",
         {{"prompt", "x"}, {"presence_penalty", 3}},
         "presence_penalty",
         "in [-2, 2]"},
        {"/v1/completions",
         {{"prompt", "x"}, {"repetition_penalty", 0}},
         "repetition_penalty",
         "greater than zero"},
        {"/v1/completions", {{"prompt", "x"}, {"top_k", -2}}, "top_k", "-1 (disable)"},
        {"/v1/completions", {{"prompt", "x"}, {"min_p", 2}}, "min_p", "in [0, 1]"},
        {"/v1/completions",
         {{"prompt", "x"}, {"logit_bias", {{"abc", 1}}}},
         "logit_bias",
         "key `abc` is not a token id"},
        {"/v1/completions", {{"prompt", "x"}, {"logit_bias", {1, 2}}}, "logit_bias", "object"},
        {"/v1/completions",
         {{"prompt", "x"}, {"min_tokens", 20}},
         "min_tokens",
         "min_tokens must be less than or equal to max_tokens=16, got 20."},
        {"/v1/completions",
         {{"prompt", "x"}, {"stop_token_ids", {"a"}}},
         "stop_token_ids",
         "list of integers"},
        {"/v1/completions", {{"max_tokens", 3}}, "prompt", "prompt: Field required."},
        {"/v1/completions", {{"prompt", 5}}, "prompt", "string, list of strings"},
        {"/v1/completions", {{"prompt", json::array()}}, "prompt", "Prompt cannot be empty."},
        {"/v1/completions", {{"prompt", {{1, 2}, json::array()}}}, "prompt", "empty"},
        {"/v1/completions", {{"prompt", {1, "a"}}}, "prompt", "list of integers"},
        {"/v1/completions", {{"prompt", "x"}, {"model", 3}}, "model", "string"},
        {"/v1/completions",
         {{"prompt", "x"}, {"stream_options", {{"include_usage", true}}}},
         "stream_options",
         "Stream options can only be defined when `stream=True`."},
        {"/v1/completions",
         {{"prompt", "x"}, {"echo", true}, {"logprobs", 1}},
         "echo",
         "ask for `prompt_logprobs`"},
        {"/v1/completions", {{"prompt", {999}}}, "prompt", "Token id 999 is out of vocabulary"},
        {"/v1/chat/completions", {{"messages", "hi"}}, "messages", "list of messages"},
        {"/v1/chat/completions", {{"messages", json::array()}}, "messages", "must not be empty"},
        {"/v1/chat/completions", {{"messages", {{{"content", "x"}}}}}, "messages[0].role", "role"},
        {"/v1/chat/completions",
         {{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}},
         "messages[0].content",
         "content part type `image_url` is not supported"},
        {"/v1/chat/completions",
         {{"messages", {{{"role", "user"}, {"content", 5}}}}},
         "messages[0].content",
         "string or list of content parts"},
        {"/v1/chat/completions",
         {{"messages", messages}, {"top_logprobs", 2}},
         "top_logprobs",
         "when using `top_logprobs`, `logprobs` must be set to true."},
        {"/v1/chat/completions", {{"messages", messages}, {"logprobs", 1}}, "logprobs", "boolean"},
        {"/v1/chat/completions",
         {{"messages", messages}, {"max_completion_tokens", -1}},
         "max_completion_tokens",
         "at least 1"},
        {"/v1/chat/completions",
         {{"messages", messages}, {"continue_final_message", true}},
         "continue_final_message",
         "Cannot set both `continue_final_message` and `add_generation_prompt` to True."},
        {"/v1/chat/completions",
         {{"messages", messages}, {"chat_template_kwargs", "x"}},
         "chat_template_kwargs",
         "object"},
        {"/v1/chat/completions",
         {{"messages", messages}, {"tools", {{"type", "function"}}}},
         "tools",
         "list of tools"},
        {"/v1/chat/completions",
         {{"messages", messages}, {"tool_choice", "required"}},
         "tool_choice",
         "`tools` must be set"},
        {"/v1/chat/completions",
         {{"messages", messages},
          {"response_format",
           {{"type", "json_schema"},
            {"json_schema",
             {{"name", "x"},
              {"schema",
               {{"type", "object"},
                {"properties", {{"tags", {{"type", "array"}, {"uniqueItems", true}}}}}}}}}}}},
         "response_format.json_schema.schema",
         "json schema at $.properties.tags: keyword 'uniqueItems' is not supported"},
        {"/v1/chat/completions",
         {{"messages", messages}, {"response_format", {{"type", "json_schema"}}}},
         "response_format.json_schema",
         "must be an object"},
        {"/v1/completions",
         {{"prompt", "Hi"}, {"guided_json", "{\"type\": \"object\",}"}},
         "guided_json",
         "not valid JSON at 1:19"},
        {"/v1/completions",
         {{"prompt", "Hi"}, {"guided_regex", "a+"}, {"structured_outputs", {{"choice", {"a"}}}}},
         "structured_outputs",
         "guided_regex and structured_outputs both ask for structured output"},
        {"/v1/completions",
         {{"prompt", "Hi"}, {"structured_outputs", {{"regex", "a"}, {"grammar", "b"}}}},
         "structured_outputs",
         "must set exactly one of"},
        {"/v1/completions",
         {{"prompt", "Hi"}, {"guided_choice", {"a", 2}}},
         "guided_choice",
         "guided_choice[1] must be a string"},
    };
    for (const WrongField& c : cases) {
        SCOPED_TRACE(c.body.dump());
        const json error = expect_error(post(c.endpoint, c.body), 400);
        EXPECT_EQ(error["type"], "BadRequestError");
        EXPECT_EQ(error["param"], c.param);
        EXPECT_NE(error["message"].get<std::string>().find(c.message_part), std::string::npos)
            << error["message"];
    }
    EXPECT_TRUE(engine_->submitted().empty());
}

TEST_F(ErrorsTest, ContextLengthMessages) {
    json error =
        expect_error(post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 200}}), 400);
    EXPECT_EQ(error["message"],
              "This model's maximum context length is 128 tokens. However, you requested 203 "
              "tokens (3 in the messages, 200 in the completion). Please reduce the length of the "
              "messages or completion.");
    const std::string long_text(120, 'x');
    error = expect_error(post("/v1/chat/completions",
                              json{{"messages", {{{"role", "user"}, {"content", long_text}}}}}),
                         400);
    EXPECT_EQ(error["message"],
              "This model's maximum context length is 128 tokens. However, you requested 138 "
              "tokens in the messages, Please reduce the length of the messages.");
    // Exactly filling the context is allowed.
    const auto ok = post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 125}});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
}

TEST_F(ErrorsTest, UnknownModelIs404) {
    const json error =
        expect_error(post("/v1/completions", json{{"model", "gpt-4"}, {"prompt", "x"}}), 404);
    EXPECT_EQ(error["message"], "The model `gpt-4` does not exist.");
    EXPECT_EQ(error["type"], "NotFoundError");
    expect_error(
        post("/v1/chat/completions",
             json{{"model", "nope"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}}),
        404);
}

TEST_F(ErrorsTest, UnknownPathIs404Json) {
    expect_error(get("/v1/nothing"), 404);
    expect_error(post("/v2/completions", json::object()), 404);
}

TEST_F(ErrorsTest, OverloadIs503) {
    TearDown();
    ServerOptions options;
    options.max_waiting = 4;
    start(options);
    engine_->forced_waiting = 4;
    const json error = expect_error(post("/v1/completions", json{{"prompt", "x"}}), 503);
    EXPECT_EQ(error["type"], "ServiceUnavailableError");
    engine_->forced_waiting = 3;
    const auto ok = post("/v1/completions", json{{"prompt", "x"}});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
}

TEST_F(ErrorsTest, ApiKeyGuardsV1Only) {
    TearDown();
    ServerOptions options;
    options.api_key = "sekret";
    start(options);
    const json body = {{"prompt", "x"}, {"max_tokens", 1}};
    json error = expect_error(post("/v1/completions", body), 401);
    EXPECT_EQ(error["message"], "Unauthorized");
    expect_error(post("/v1/completions", body, {{"Authorization", "Bearer wrong"}}), 401);
    expect_error(get("/v1/models"), 401);
    const auto ok = post("/v1/completions", body, {{"Authorization", "Bearer sekret"}});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(get("/health")->status, 200);
    EXPECT_EQ(get("/metrics")->status, 200);
    EXPECT_EQ(post("/tokenize", json{{"prompt", "x"}})->status, 200);
}

TEST_F(ErrorsTest, EngineRefusalAndTemplateFailureAre400) {
    json error = expect_error(post("/v1/completions", json{{"prompt", "REFUSE"}}), 400);
    EXPECT_EQ(error["message"], "fake engine: refused by request");
    error =
        expect_error(post("/v1/chat/completions",
                          json{{"messages", {{{"role", "user"}, {"content", "BAD_TEMPLATE"}}}}}),
                     400);
    EXPECT_EQ(error["message"], "chat template: cannot render 'BAD_TEMPLATE'");
}

TEST_F(ErrorsTest, EngineFailureMidStreamSendsErrorFrame) {
    const auto result = post("/v1/completions", json{{"prompt", "FAIL_STREAM"}, {"stream", true}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200);
    bool done = false;
    const auto events = parse_sse(result->body, &done);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["error"]["message"], "fake engine: the model run failed");
    EXPECT_EQ(events.back()["error"]["code"], 500);
    EXPECT_TRUE(done);

    const json error = expect_error(post("/v1/completions", json{{"prompt", "FAIL_STREAM"}}), 500);
    EXPECT_EQ(error["type"], "InternalServerError");
}

}  // namespace
}  // namespace ovllm::server::test
