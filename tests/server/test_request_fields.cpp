// Every request field of vLLM's OpenAI protocol (vllm/entrypoints/openai/protocol.py,
// CompletionRequest and ChatCompletionRequest) is either honoured, shown here by its effect,
// or refused with a 400 whose `param` names it. The list below is written from vLLM's
// protocol, not from the server's own table, so a field the server forgets fails here.
#include "server/request_fields.hpp"

#include "letter_tokenizer.hpp"
#include "server_fixture.hpp"

namespace ovllm::server::test {
namespace {

const json kUser = {{{"role", "user"}, {"content", "Hi"}}};

json completion(json extra) {
    json body = {{"prompt", "Hi"}, {"max_tokens", 3}};
    body.update(extra);
    return body;
}

json chat(json extra) {
    json body = {{"messages", kUser}, {"max_tokens", 3}};
    body.update(extra);
    return body;
}

struct Refused {
    const char* path;
    json body;
    const char* param;
};

TEST_F(ServerTest, UnsupportedFieldsAreRefusedByName) {
    const json tool = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
    const std::vector<Refused> cases = {
        {"/v1/completions", completion({{"use_beam_search", true}}), "use_beam_search"},
        {"/v1/chat/completions", chat({{"use_beam_search", true}}), "use_beam_search"},
        {"/v1/completions", completion({{"best_of", 3}}), "best_of"},
        {"/v1/chat/completions", chat({{"best_of", 2}, {"n", 1}}), "best_of"},
        {"/v1/completions", completion({{"length_penalty", 0.5}}), "length_penalty"},
        {"/v1/completions", completion({{"prompt_logprobs", 1}, {"stream", true}}),
         "prompt_logprobs"},
        {"/v1/chat/completions", chat({{"prompt_logprobs", 21}}), "prompt_logprobs"},
        {"/v1/completions", completion({{"suffix", "end"}}), "suffix"},
        {"/v1/chat/completions", chat({{"echo", true}}), "echo"},
        {"/v1/completions", completion({{"prompt_embeds", "AAAA"}}), "prompt_embeds"},
        {"/v1/chat/completions", chat({{"documents", json::array({{{"text", "d"}}})}}),
         "documents"},
        {"/v1/chat/completions", chat({{"chat_template", "{{ messages }}"}}), "chat_template"},
        {"/v1/chat/completions", chat({{"mm_processor_kwargs", {{"a", 1}}}}),
         "mm_processor_kwargs"},
        {"/v1/completions", completion({{"logits_processors", {"pkg.Proc"}}}), "logits_processors"},
        {"/v1/completions", completion({{"return_tokens_as_token_ids", true}}),
         "return_tokens_as_token_ids"},
        {"/v1/completions", completion({{"cache_salt", "s"}}), "cache_salt"},
        {"/v1/completions", completion({{"kv_transfer_params", {{"a", 1}}}}), "kv_transfer_params"},
        {"/v1/completions", completion({{"vllm_xargs", {{"a", 1}}}}), "vllm_xargs"},
        {"/v1/completions", completion({{"priority", 5}}), "priority"},
        {"/v1/chat/completions", chat({{"include_reasoning", "no"}}), "include_reasoning"},
        {"/v1/chat/completions",
         chat({{"functions", json::array({{{"name", "f"}, {"parameters", json::object()}}})}}),
         "functions"},
        {"/v1/chat/completions", chat({{"function_call", "auto"}}), "function_call"},
        // Tools: "auto" (explicit or implied by tools alone) needs a tool call parser (this
        // server has none); a named function must be among the tools.
        {"/v1/chat/completions", chat({{"tools", {tool}}}), "tool_choice"},
        {"/v1/chat/completions", chat({{"tools", {tool}}, {"tool_choice", "auto"}}), "tool_choice"},
        {"/v1/chat/completions",
         chat({{"tools", {tool}},
               {"tool_choice", {{"type", "function"}, {"function", {{"name", "other"}}}}}}),
         "tool_choice"},
        {"/v1/chat/completions", chat({{"tools", {tool}}, {"tool_choice", "sometimes"}}),
         "tool_choice"},
        {"/v1/chat/completions", chat({{"tool_choice", "none"}}), "tool_choice"},
        {"/v1/chat/completions",
         chat({{"tools", {tool}},
               {"tool_choice", "required"},
               {"response_format", {{"type", "json_object"}}}}),
         "tool_choice"},
        // Malformed tools name the broken part.
        {"/v1/chat/completions", chat({{"tools", {{{"type", "retrieval"}}}}}), "tools[0].type"},
        {"/v1/chat/completions", chat({{"tools", {{{"type", "function"}}}}}), "tools[0].function"},
        {"/v1/chat/completions",
         chat({{"tools", {{{"type", "function"}, {"function", {{"name", 7}}}}}}}),
         "tools[0].function.name"},
        {"/v1/chat/completions",
         chat({{"tools",
                {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", "x"}}}}}}}),
         "tools[0].function.parameters"},
        // Structured output is honoured (tests in test_http_errors); what it cannot map is
        // refused by name.
        {"/v1/chat/completions", chat({{"structural_tag", "{}"}}), "structural_tag"},
        {"/v1/completions", completion({{"guided_decoding_backend", "xgrammar"}}),
         "guided_decoding_backend"},
        {"/v1/completions", completion({{"guided_whitespace_pattern", " "}}),
         "guided_whitespace_pattern"},
        // Smaller defects of the issue: named, not an overflow or a template error.
        {"/v1/completions", completion({{"max_tokens", 2147483648LL}}), "max_tokens"},
        {"/v1/chat/completions", chat({{"messages", {{{"role", "user"}, {"content", nullptr}}}}}),
         "messages[0].content"},
        {"/v1/chat/completions", chat({{"messages", {{{"role", "wizard"}, {"content", "x"}}}}}),
         "messages[0].role"},
        {"/v1/completions", completion({{"truncate_prompt_tokens", 0}}), "truncate_prompt_tokens"},
        {"/v1/completions", completion({{"allowed_token_ids", json::array()}}),
         "allowed_token_ids"},
    };
    for (const Refused& c : cases) {
        SCOPED_TRACE(c.body.dump());
        const json error = expect_error(post(c.path, c.body), 400);
        EXPECT_EQ(error["param"], c.param);
        EXPECT_NE(error["message"].get<std::string>().find(c.param), std::string::npos)
            << error["message"];
    }
    EXPECT_TRUE(engine_->submitted().empty());
}

TEST_F(ServerTest, MaxTokensOverflowSaysTheLimit) {
    const json error =
        expect_error(post("/v1/completions", completion({{"max_tokens", 2147483648LL}})), 400);
    EXPECT_NE(error["message"].get<std::string>().find("at most 2147483647"), std::string::npos)
        << error["message"];
}

TEST_F(ServerTest, DefaultValuesOfRefusedFieldsAreAccepted) {
    const json body = completion({{"use_beam_search", false},
                                  {"best_of", 1},
                                  {"length_penalty", 1.0},
                                  {"prompt_logprobs", nullptr},
                                  {"priority", 0},
                                  {"response_format", {{"type", "text"}}},
                                  {"guided_json", nullptr}});
    const auto result = post("/v1/completions", body);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200) << result->body;
    const auto chat_result =
        post("/v1/chat/completions",
             chat({{"include_reasoning", true},
                   {"tools", {{{"type", "function"}, {"function", {{"name", "f"}}}}}},
                   {"tool_choice", "none"},
                   {"parallel_tool_calls", true}}));
    ASSERT_TRUE(chat_result);
    EXPECT_EQ(chat_result->status, 200) << chat_result->body;
}

TEST_F(ServerTest, ReturnTokenIdsGivesPromptAndOutputIds) {
    const auto result =
        post("/v1/completions", completion({{"return_token_ids", true}, {"max_tokens", 3}}));
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const json choice = json::parse(result->body)["choices"][0];
    // The fake tokenizer: BOS = 1, byte b -> b + 3; it generates 'a', 'b', 'c'.
    EXPECT_EQ(choice["prompt_token_ids"], json({1, 'H' + 3, 'i' + 3}));
    EXPECT_EQ(choice["token_ids"], json({'a' + 3, 'b' + 3, 'c' + 3}));

    const auto chat_result =
        post("/v1/chat/completions", chat({{"return_token_ids", true}, {"max_tokens", 2}}));
    ASSERT_TRUE(chat_result);
    const json body = json::parse(chat_result->body);
    EXPECT_EQ(body["prompt_token_ids"].size(), engine_->submitted().back().prompt_token_ids.size());
    EXPECT_EQ(body["choices"][0]["token_ids"], json({'a' + 3, 'b' + 3}));

    const auto streamed =
        post("/v1/completions",
             completion({{"return_token_ids", true}, {"max_tokens", 3}, {"stream", true}}));
    ASSERT_TRUE(streamed);
    std::vector<int64_t> ids;
    const auto events = parse_sse(streamed->body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events[0]["choices"][0]["prompt_token_ids"], json({1, 'H' + 3, 'i' + 3}));
    for (const json& event : events) {
        for (const json& id : event["choices"][0]["token_ids"]) ids.push_back(id.get<int64_t>());
    }
    EXPECT_EQ(ids, (std::vector<int64_t>{'a' + 3, 'b' + 3, 'c' + 3}));
    const auto plain = post("/v1/completions", completion(json::object()));
    EXPECT_FALSE(json::parse(plain->body)["choices"][0].contains("token_ids"));
}

// vLLM's shape: null for the first prompt token, then per token a map from its id (a string)
// to {logprob, rank, decoded_token} with the top-N and the prompt's own token. The fake
// engine scripts the values (fake_engine.cpp); the real ones are checked against
// transformers in tests/engine/test_prompt_logprobs.cpp.
TEST_F(ServerTest, PromptLogprobsAreReturnedAsVllmDoes) {
    const auto id = [](char c) { return std::to_string(ovllm::test::letter_id(c)); };
    const json expected = {nullptr,
                           {{id('H'), {{"logprob", -1.0}, {"rank", 1}, {"decoded_token", "H"}}},
                            {id('z'), {{"logprob", -0.5}, {"rank", 1}, {"decoded_token", "z"}}}},
                           {{id('i'), {{"logprob", -2.0}, {"rank", 2}, {"decoded_token", "i"}}},
                            {id('z'), {{"logprob", -0.5}, {"rank", 1}, {"decoded_token", "z"}}}}};
    const auto result =
        post("/v1/completions",
             completion({{"prompt_logprobs", 1}, {"n", 2}, {"return_token_ids", true}}));
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    EXPECT_EQ(engine_->submitted().back().params.prompt_logprobs, 1);
    const json body = json::parse(result->body);
    ASSERT_EQ(body["choices"].size(), 2u);
    for (const json& choice : body["choices"]) {
        // With the BOS the prompt is 3 tokens: [BOS, H, i].
        EXPECT_EQ(choice["prompt_token_ids"].size(), 3u);
        EXPECT_EQ(choice["prompt_logprobs"], expected) << choice.dump();
    }
    const auto chat_result = post("/v1/chat/completions", chat({{"prompt_logprobs", 0}}));
    ASSERT_TRUE(chat_result);
    ASSERT_EQ(chat_result->status, 200) << chat_result->body;
    const json chat_body = json::parse(chat_result->body);
    const size_t prompt_len = engine_->submitted().back().prompt_token_ids.size();
    ASSERT_EQ(chat_body["prompt_logprobs"].size(), prompt_len);
    EXPECT_TRUE(chat_body["prompt_logprobs"][0].is_null());
    EXPECT_EQ(chat_body["prompt_logprobs"][1].size(), 1u);  // top-0: the prompt token only
    EXPECT_FALSE(chat_body["choices"][0].contains("prompt_logprobs"));
    // Not asked: no field at all.
    EXPECT_FALSE(
        json::parse(post("/v1/completions", completion(json::object()))->body)["choices"][0]
            .contains("prompt_logprobs"));
}

TEST_F(ServerTest, ServingExtrasAreHonoured) {
    // truncate_prompt_tokens keeps the prompt's last tokens.
    ASSERT_EQ(
        post("/v1/completions", completion({{"prompt", "abcdef"}, {"truncate_prompt_tokens", 2}}))
            ->status,
        200);
    EXPECT_EQ(engine_->submitted().back().prompt_token_ids,
              (std::vector<int64_t>{'e' + 3, 'f' + 3}));
    // add_special_tokens: false drops the BOS of a completion prompt; true adds one in chat.
    ASSERT_EQ(post("/v1/completions", completion({{"add_special_tokens", false}}))->status, 200);
    EXPECT_EQ(engine_->submitted().back().prompt_token_ids,
              (std::vector<int64_t>{'H' + 3, 'i' + 3}));
    ASSERT_EQ(post("/v1/chat/completions", chat({{"add_special_tokens", true}}))->status, 200);
    EXPECT_EQ(engine_->submitted().back().prompt_token_ids.front(), FakeEngine::kBos);
    // request_id names the response.
    const auto named = post("/v1/completions", completion({{"request_id", "abc-123"}}));
    EXPECT_EQ(json::parse(named->body)["id"], "cmpl-abc-123");
    // allowed_token_ids and bad_words reach the sampler.
    ASSERT_EQ(
        post("/v1/completions", completion({{"allowed_token_ids", {5, 6}}, {"bad_words", {"x y"}}}))
            ->status,
        200);
    const SamplingParams params = engine_->submitted().back().params;
    EXPECT_EQ(params.allowed_token_ids, (std::vector<int64_t>{5, 6}));
    EXPECT_EQ(params.bad_words, std::vector<std::string>{"x y"});
}

// The server's table lists every field of vLLM's protocol; this list is vLLM's.
TEST(RequestFields, EveryVllmFieldIsKnown) {
    const std::vector<std::string> shared = {"model",
                                             "n",
                                             "temperature",
                                             "top_p",
                                             "top_k",
                                             "min_p",
                                             "presence_penalty",
                                             "frequency_penalty",
                                             "repetition_penalty",
                                             "seed",
                                             "stop",
                                             "stop_token_ids",
                                             "include_stop_str_in_output",
                                             "ignore_eos",
                                             "min_tokens",
                                             "max_tokens",
                                             "skip_special_tokens",
                                             "spaces_between_special_tokens",
                                             "logit_bias",
                                             "allowed_token_ids",
                                             "bad_words",
                                             "logprobs",
                                             "stream",
                                             "stream_options",
                                             "user",
                                             "add_special_tokens",
                                             "truncate_prompt_tokens",
                                             "return_token_ids",
                                             "request_id",
                                             "use_beam_search",
                                             "length_penalty",
                                             "prompt_logprobs",
                                             "logits_processors",
                                             "return_tokens_as_token_ids",
                                             "cache_salt",
                                             "kv_transfer_params",
                                             "vllm_xargs",
                                             "priority",
                                             "response_format",
                                             "structured_outputs",
                                             "guided_json",
                                             "guided_regex",
                                             "guided_choice",
                                             "guided_grammar",
                                             "structural_tag",
                                             "guided_decoding_backend",
                                             "guided_whitespace_pattern"};
    const std::vector<std::string> completions_only = {"prompt", "echo", "best_of", "suffix",
                                                       "prompt_embeds"};
    const std::vector<std::string> chat_only = {"messages",
                                                "max_completion_tokens",
                                                "top_logprobs",
                                                "add_generation_prompt",
                                                "continue_final_message",
                                                "chat_template_kwargs",
                                                "tools",
                                                "tool_choice",
                                                "parallel_tool_calls",
                                                "echo",
                                                "best_of",
                                                "documents",
                                                "chat_template",
                                                "mm_processor_kwargs",
                                                "reasoning_effort",
                                                "include_reasoning"};
    const auto check = [](Endpoint endpoint, std::vector<std::string> expected) {
        const std::vector<std::string> known = known_request_fields(endpoint);
        for (const std::string& name : expected) {
            EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
        }
    };
    std::vector<std::string> completions = shared, chats = shared;
    completions.insert(completions.end(), completions_only.begin(), completions_only.end());
    chats.insert(chats.end(), chat_only.begin(), chat_only.end());
    check(Endpoint::completions, completions);
    check(Endpoint::chat, chats);
    // A field outside vLLM's protocol is reported back for the log, not refused.
    EXPECT_EQ(check_request_fields(json{{"prompt", "x"}, {"my_field", 1}}, Endpoint::completions),
              std::vector<std::string>{"my_field"});
}

}  // namespace
}  // namespace ovllm::server::test
