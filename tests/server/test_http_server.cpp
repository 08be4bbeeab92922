// Every endpoint over real loopback HTTP against the fake engine.
#include <thread>

#include "server_fixture.hpp"
#include "util/error.hpp"

namespace ovllm::server::test {
namespace {

TEST_F(ServerTest, HealthIsEmpty200) {
    const auto result = get("/health");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, "");
}

TEST_F(ServerTest, ResetPrefixCacheIs200WhenIdleAnd503WhileARequestRuns) {
    const auto idle = post("/reset_prefix_cache", std::string());
    ASSERT_TRUE(idle);
    EXPECT_EQ(idle->status, 200);

    engine_->paused = true;  // the request below stays running, holding its blocks
    std::thread running([&] { post("/v1/completions", json{{"prompt", "x"}, {"max_tokens", 4}}); });
    while (engine_->active() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto busy = post("/reset_prefix_cache", std::string());
    engine_->paused = false;
    running.join();
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->status, 503);
    EXPECT_NE(json::parse(busy->body)["error"]["message"].get<std::string>().find("hold KV blocks"),
              std::string::npos);
}

TEST_F(ServerTest, VersionReportsProjectVersion) {
    const auto result = get("/version");
    ASSERT_TRUE(result);
    EXPECT_EQ(json::parse(result->body)["version"], "0.1.0");
}

TEST_F(ServerTest, ModelsListsServedModelWithContextLength) {
    const auto result = get("/v1/models");
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200);
    const json body = json::parse(result->body);
    EXPECT_EQ(body["object"], "list");
    ASSERT_EQ(body["data"].size(), 1u);
    EXPECT_EQ(body["data"][0]["id"], "fake-model");
    EXPECT_EQ(body["data"][0]["object"], "model");
    EXPECT_EQ(body["data"][0]["max_model_len"], FakeEngine::kMaxModelLen);
    EXPECT_EQ(body["data"][0]["root"], "fake-model");
}

TEST_F(ServerTest, CompletionGeneratesAndReportsUsage) {
    const auto result =
        post("/v1/completions", json{{"model", "fake-model"}, {"prompt", "Hi"}, {"max_tokens", 5}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const json body = json::parse(result->body);
    EXPECT_EQ(body["object"], "text_completion");
    EXPECT_EQ(body["model"], "fake-model");
    EXPECT_EQ(body["id"].get<std::string>().rfind("cmpl-", 0), 0u);
    ASSERT_EQ(body["choices"].size(), 1u);
    EXPECT_EQ(body["choices"][0]["text"], "abcde");
    EXPECT_EQ(body["choices"][0]["index"], 0);
    EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
    EXPECT_TRUE(body["choices"][0]["logprobs"].is_null());
    EXPECT_EQ(body["usage"]["prompt_tokens"], 3);  // BOS, 'H', 'i'
    EXPECT_EQ(body["usage"]["completion_tokens"], 5);
    EXPECT_EQ(body["usage"]["total_tokens"], 8);
    const auto submitted = engine_->submitted();
    ASSERT_EQ(submitted.size(), 1u);
    EXPECT_EQ(submitted[0].prompt_token_ids, (std::vector<int64_t>{1, 'H' + 3, 'i' + 3}));
    EXPECT_EQ(submitted[0].prompt_text, "Hi");
    EXPECT_EQ(submitted[0].params.max_tokens, 5);
    EXPECT_EQ(submitted[0].params.output_kind, OutputKind::delta);
}

TEST_F(ServerTest, CompletionDefaultsToSixteenTokensAndPassesSamplingFields) {
    const json request = {{"prompt", "x"},
                          {"temperature", 0.5},
                          {"top_p", 0.9},
                          {"top_k", 7},
                          {"min_p", 0.1},
                          {"seed", 42},
                          {"presence_penalty", 0.5},
                          {"frequency_penalty", -0.5},
                          {"repetition_penalty", 1.2},
                          {"ignore_eos", true},
                          {"min_tokens", 2},
                          {"skip_special_tokens", false},
                          {"logit_bias", {{"5", 200}, {"7", -1.5}}},
                          {"user", "someone"}};
    const auto result = post("/v1/completions", request);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    EXPECT_EQ(json::parse(result->body)["choices"][0]["text"], "abcdefghijklmnop");
    const SamplingParams params = engine_->submitted().at(0).params;
    EXPECT_EQ(params.max_tokens, 16);
    EXPECT_FLOAT_EQ(params.temperature, 0.5f);
    EXPECT_FLOAT_EQ(params.top_p, 0.9f);
    EXPECT_EQ(params.top_k, 7);
    EXPECT_FLOAT_EQ(params.min_p, 0.1f);
    EXPECT_EQ(params.seed, 42u);
    EXPECT_FLOAT_EQ(params.presence_penalty, 0.5f);
    EXPECT_FLOAT_EQ(params.frequency_penalty, -0.5f);
    EXPECT_FLOAT_EQ(params.repetition_penalty, 1.2f);
    EXPECT_TRUE(params.ignore_eos);
    EXPECT_EQ(params.min_tokens, 2);
    EXPECT_FALSE(params.skip_special_tokens);
    EXPECT_EQ(params.logit_bias, (std::map<int64_t, float>{{5, 100.0f}, {7, -1.5f}}));
}

TEST_F(ServerTest, CompletionNTwoFansOutToTwoChoices) {
    const auto result =
        post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 3}, {"n", 2}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const json body = json::parse(result->body);
    ASSERT_EQ(body["choices"].size(), 2u);
    EXPECT_EQ(body["choices"][0]["text"], "abc");
    EXPECT_EQ(body["choices"][1]["index"], 1);
    EXPECT_EQ(body["choices"][1]["text"], "bcd");
    EXPECT_EQ(body["usage"]["completion_tokens"], 6);
    EXPECT_EQ(engine_->submitted().at(0).params.n, 2);
}

TEST_F(ServerTest, CompletionWithSeveralPromptsNumbersChoicesPromptMajor) {
    const auto result =
        post("/v1/completions", json{{"prompt", {"A", "BC"}}, {"max_tokens", 2}, {"n", 2}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const json body = json::parse(result->body);
    ASSERT_EQ(body["choices"].size(), 4u);
    const std::vector<std::string> texts = {"ab", "bc", "ab", "bc"};
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(body["choices"][i]["index"], i);
        EXPECT_EQ(body["choices"][i]["text"], texts[i]);
    }
    EXPECT_EQ(body["usage"]["prompt_tokens"], 2 + 3);
    EXPECT_EQ(body["usage"]["completion_tokens"], 8);
}

TEST_F(ServerTest, TokenIdPromptsAndEcho) {
    const auto result =
        post("/v1/completions",
             json{{"prompt", {{'x' + 3, 'y' + 3}, {'z' + 3}}}, {"max_tokens", 2}, {"echo", true}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const json body = json::parse(result->body);
    EXPECT_EQ(body["choices"][0]["text"], "xyab");
    EXPECT_EQ(body["choices"][1]["text"], "zab");
    EXPECT_EQ(body["usage"]["prompt_tokens"], 3);
    EXPECT_EQ(engine_->submitted().size(), 2u);
}

TEST_F(ServerTest, StopStringsAndStopTokens) {
    auto result = post("/v1/completions", json{{"prompt", "Hi"}, {"stop", "c"}});
    ASSERT_TRUE(result);
    json choice = json::parse(result->body)["choices"][0];
    EXPECT_EQ(choice["text"], "ab");
    EXPECT_EQ(choice["finish_reason"], "stop");
    EXPECT_EQ(choice["stop_reason"], "c");

    result = post("/v1/completions",
                  json{{"prompt", "Hi"}, {"stop", {"d"}}, {"include_stop_str_in_output", true}});
    choice = json::parse(result->body)["choices"][0];
    EXPECT_EQ(choice["text"], "abcd");
    EXPECT_EQ(choice["stop_reason"], "d");

    // As in vLLM, the stop token's own text is left out (include_stop_str_in_output is off).
    result = post("/v1/completions", json{{"prompt", "Hi"}, {"stop_token_ids", {'b' + 3}}});
    choice = json::parse(result->body)["choices"][0];
    EXPECT_EQ(choice["text"], "a");
    EXPECT_EQ(choice["finish_reason"], "stop");
    EXPECT_EQ(choice["stop_reason"], 'b' + 3);
}

TEST_F(ServerTest, CompletionLogprobsShape) {
    const auto result =
        post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 3}, {"logprobs", 2}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const json logprobs = json::parse(result->body)["choices"][0]["logprobs"];
    EXPECT_EQ(logprobs["tokens"], json({"a", "b", "c"}));
    EXPECT_EQ(logprobs["token_logprobs"], json({-0.5, -1.0, -1.5}));
    EXPECT_EQ(logprobs["text_offset"], json({0, 1, 2}));
    ASSERT_EQ(logprobs["top_logprobs"].size(), 3u);
    EXPECT_EQ(logprobs["top_logprobs"][0], json({{"z", -1.0}, {"y", -2.0}, {"a", -0.5}}));
    EXPECT_EQ(engine_->submitted().at(0).params.logprobs, 2);
}

TEST_F(ServerTest, CompletionStreamSendsDeltasFinishReasonUsageAndDone) {
    const auto result =
        post("/v1/completions", json{{"prompt", "Hi"},
                                     {"max_tokens", 4},
                                     {"stream", true},
                                     {"logprobs", 0},
                                     {"stream_options", {{"include_usage", true}}}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Content-Type"), "text/event-stream");
    bool done = false;
    const auto events = parse_sse(result->body, &done);
    EXPECT_TRUE(done);
    ASSERT_EQ(events.size(), 5u);  // 4 tokens + usage
    std::string text;
    for (size_t i = 0; i < 4; ++i) {
        const json& choice = events[i]["choices"][0];
        EXPECT_EQ(events[i]["object"], "text_completion");
        EXPECT_EQ(events[i]["id"], events[0]["id"]);
        text += choice["text"].get<std::string>();
        EXPECT_EQ(choice["logprobs"]["text_offset"], json({i}));
        EXPECT_EQ(choice["finish_reason"], i == 3 ? json("length") : json(nullptr));
        EXPECT_FALSE(events[i].contains("usage"));
    }
    EXPECT_EQ(text, "abcd");
    EXPECT_EQ(events[4]["choices"], json::array());
    EXPECT_EQ(events[4]["usage"]["prompt_tokens"], 3);
    EXPECT_EQ(events[4]["usage"]["completion_tokens"], 4);
    EXPECT_EQ(events[4]["usage"]["total_tokens"], 7);
}

TEST_F(ServerTest, CompletionStreamWithEchoPutsPromptFirst) {
    const auto result =
        post("/v1/completions",
             json{{"prompt", "Hi"}, {"max_tokens", 2}, {"stream", true}, {"echo", true}});
    ASSERT_TRUE(result);
    std::string text;
    for (const json& event : parse_sse(result->body)) {
        text += event["choices"][0]["text"].get<std::string>();
    }
    EXPECT_EQ(text, "Hiab");
}

const json kChat = {{"model", "fake-model"},
                    {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                    {"max_completion_tokens", 4}};

TEST_F(ServerTest, ChatCompletion) {
    const auto result = post("/v1/chat/completions", kChat);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const json body = json::parse(result->body);
    EXPECT_EQ(body["object"], "chat.completion");
    EXPECT_EQ(body["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
    EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(body["choices"][0]["message"]["content"], "abcd");
    EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
    const std::string prompt = "<user>Hi\n<assistant>";
    EXPECT_EQ(body["usage"]["prompt_tokens"], prompt.size());  // no BOS added for chat
    EXPECT_EQ(engine_->submitted().at(0).prompt_text, prompt);
}

TEST_F(ServerTest, ChatMaxTokensDefaultsToRestOfContext) {
    json request = kChat;
    request.erase("max_completion_tokens");
    request["stop"] = "c";
    const auto result = post("/v1/chat/completions", request);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const int prompt_len = int(std::string("<user>Hi\n<assistant>").size());
    EXPECT_EQ(engine_->submitted().at(0).params.max_tokens, FakeEngine::kMaxModelLen - prompt_len);
}

TEST_F(ServerTest, ChatContentPartsToolsAndTemplateOptionsReachTheEngine) {
    const json request = {
        {"messages",
         {{{"role", "system"}, {"content", "S"}},
          {{"role", "user"},
           {"content", {{{"type", "text"}, {"text", "one"}}, {{"type", "text"}, {"text", "two"}}}}},
          {{"role", "assistant"}, {"content", "par"}}}},
        {"add_generation_prompt", false},
        {"continue_final_message", true},
        {"chat_template_kwargs", {{"enable_thinking", false}}},
        {"tools", {{{"type", "function"}, {"function", {{"name", "f"}}}}}},
        {"tool_choice", "none"},
        {"max_tokens", 1}};
    const auto result = post("/v1/chat/completions", request);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const ChatTemplateRequest chat = engine_->last_chat();
    EXPECT_EQ(chat.messages[1]["content"], "one\ntwo");
    EXPECT_FALSE(chat.add_generation_prompt);
    EXPECT_TRUE(chat.continue_final_message);
    EXPECT_EQ(chat.chat_template_kwargs, json({{"enable_thinking", false}}));
    EXPECT_EQ(chat.tools[0]["function"]["name"], "f");
    EXPECT_EQ(engine_->submitted().at(0).prompt_text,
              "<system>S\n<user>one\ntwo\n<assistant>par\n");
}

TEST_F(ServerTest, ChatLogprobsShape) {
    json request = kChat;
    request["max_completion_tokens"] = 2;
    request["logprobs"] = true;
    request["top_logprobs"] = 2;
    const auto result = post("/v1/chat/completions", request);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const json content = json::parse(result->body)["choices"][0]["logprobs"]["content"];
    ASSERT_EQ(content.size(), 2u);
    EXPECT_EQ(content[0], json({{"token", "a"},
                                {"logprob", -0.5},
                                {"bytes", {97}},
                                {"top_logprobs",
                                 {{{"token", "z"}, {"logprob", -1.0}, {"bytes", {122}}},
                                  {{"token", "y"}, {"logprob", -2.0}, {"bytes", {121}}}}}}));
    EXPECT_EQ(content[1]["token"], "b");
}

TEST_F(ServerTest, ChatStreamRoleFirstThenDeltasThenUsage) {
    engine_->cached_tokens = 3;
    json request = kChat;
    request["stream"] = true;
    request["n"] = 2;
    request["stream_options"] = {{"include_usage", true}};
    const auto result = post("/v1/chat/completions", request);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200);
    bool done = false;
    const auto events = parse_sse(result->body, &done);
    EXPECT_TRUE(done);
    ASSERT_GE(events.size(), 3u);
    std::vector<std::string> texts(2);
    std::vector<json> finish(2);
    for (size_t i = 0; i + 1 < events.size(); ++i) {
        EXPECT_EQ(events[i]["object"], "chat.completion.chunk");
        const json& choice = events[i]["choices"][0];
        const int index = choice["index"];
        if (i < 2) {  // one role chunk per choice comes first
            EXPECT_EQ(choice["delta"]["role"], "assistant");
            EXPECT_EQ(choice["delta"]["content"], "");
            EXPECT_EQ(index, int(i));
        } else {
            EXPECT_FALSE(choice["delta"].contains("role"));
        }
        texts[size_t(index)] += choice["delta"]["content"].get<std::string>();
        if (!choice["finish_reason"].is_null()) finish[size_t(index)] = choice["finish_reason"];
    }
    EXPECT_EQ(texts[0], "abcd");
    EXPECT_EQ(texts[1], "bcde");
    EXPECT_EQ(finish[0], "length");
    EXPECT_EQ(finish[1], "length");
    const json& last = events.back();
    EXPECT_EQ(last["choices"], json::array());
    EXPECT_EQ(last["usage"]["completion_tokens"], 8);
    EXPECT_EQ(last["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
}

TEST_F(ServerTest, TokenizeAndDetokenize) {
    auto result = post("/tokenize", json{{"prompt", "Hi"}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    json body = json::parse(result->body);
    EXPECT_EQ(body["tokens"], json({1, 'H' + 3, 'i' + 3}));
    EXPECT_EQ(body["count"], 3);
    EXPECT_EQ(body["max_model_len"], FakeEngine::kMaxModelLen);

    result = post("/tokenize", json{{"prompt", "Hi"}, {"add_special_tokens", false}});
    EXPECT_EQ(json::parse(result->body)["tokens"], json({'H' + 3, 'i' + 3}));

    result = post("/tokenize", json{{"messages", {{{"role", "user"}, {"content", "Hi"}}}}});
    EXPECT_EQ(json::parse(result->body)["count"], std::string("<user>Hi\n<assistant>").size());

    result = post("/detokenize", json{{"model", "fake-model"}, {"tokens", {'H' + 3, 'i' + 3}}});
    ASSERT_EQ(result->status, 200) << result->body;
    EXPECT_EQ(json::parse(result->body)["prompt"], "Hi");

    expect_error(post("/detokenize", json{{"tokens", {1000}}}), 400);
    expect_error(post("/detokenize", json{{"tokens", "Hi"}}), 400);
    expect_error(post("/tokenize", json{{"prompt", 5}}), 400);
    expect_error(post("/tokenize", json{{"model", "other"}, {"prompt", "x"}}), 404);
}

TEST_F(ServerTest, BindingATakenPortIsAnError) {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = port_;
    OpenAIServer second(*engine_, options);
    EXPECT_THROW(second.bind(), Error);
}

TEST_F(ServerTest, ContinuousUsageStatsOnEveryChunk) {
    const auto result =
        post("/v1/completions", json{{"prompt", "Hi"},
                                     {"max_tokens", 3},
                                     {"stream", true},
                                     {"stream_options", {{"continuous_usage_stats", true}}}});
    ASSERT_TRUE(result);
    const auto events = parse_sse(result->body);
    ASSERT_EQ(events.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(events[i]["usage"]["prompt_tokens"], 3);
        EXPECT_EQ(events[i]["usage"]["completion_tokens"], i + 1);
    }
}

TEST_F(ServerTest, ManyConcurrentStreamsAllComplete) {
    constexpr int kClients = 32;
    std::vector<std::string> texts(kClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back([this, i, &texts] {
            const auto result = post("/v1/completions",
                                     json{{"prompt", "Hi"}, {"max_tokens", 20}, {"stream", true}});
            if (!result) {
                texts[size_t(i)] = "error: " + httplib::to_string(result.error());
                return;
            }
            for (const json& event : parse_sse(result->body)) {
                texts[size_t(i)] += event["choices"][0]["text"].get<std::string>();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    for (const std::string& text : texts) EXPECT_EQ(text, "abcdefghijklmnopqrst");
}

}  // namespace
}  // namespace ovllm::server::test
