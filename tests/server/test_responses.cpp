// POST /v1/responses over the fake engine: the response object, the input items as chat
// messages, sampling fields, the stream's event order, and the fields refused by name. The
// shapes follow the official `openai` package's types (openai/types/responses/*.py); the
// real client runs against a real model in scripts/test_responses_client.py.
#include "server/request_fields.hpp"
#include "server_fixture.hpp"

namespace ovllm::server::test {
namespace {

json response_body(const httplib::Result& result) {
    EXPECT_TRUE(result);
    if (!result) return json();
    EXPECT_EQ(result->status, 200) << result->body;
    return json::parse(result->body);
}

TEST_F(ServerTest, ResponsesPlainInputGivesAResponseObject) {
    const json body = response_body(post(
        "/v1/responses", json{{"model", "fake-model"}, {"input", "Hi"}, {"max_output_tokens", 3}}));
    EXPECT_EQ(body["object"], "response");
    EXPECT_EQ(body["id"].get<std::string>().rfind("resp_", 0), 0u) << body["id"];
    EXPECT_EQ(body["model"], "fake-model");
    EXPECT_TRUE(body["created_at"].is_number_integer());
    // Cut by max_output_tokens: incomplete, with the reason.
    EXPECT_EQ(body["status"], "incomplete");
    EXPECT_EQ(body["incomplete_details"], json({{"reason", "max_output_tokens"}}));
    EXPECT_EQ(body["max_output_tokens"], 3);
    EXPECT_EQ(body["store"], false);
    ASSERT_EQ(body["output"].size(), 1u);
    const json& item = body["output"][0];
    EXPECT_EQ(item["type"], "message");
    EXPECT_EQ(item["role"], "assistant");
    EXPECT_EQ(item["status"], "incomplete");
    EXPECT_EQ(item["id"].get<std::string>().rfind("msg_", 0), 0u) << item["id"];
    ASSERT_EQ(item["content"].size(), 1u);
    EXPECT_EQ(item["content"][0]["type"], "output_text");
    EXPECT_EQ(item["content"][0]["text"], "abc");
    EXPECT_EQ(item["content"][0]["annotations"], json::array());

    // The input became one user message, rendered with the generation prompt.
    const ChatTemplateRequest chat = engine_->last_chat();
    EXPECT_EQ(chat.messages, json::parse(R"([{"role": "user", "content": "Hi"}])"));
    EXPECT_TRUE(chat.add_generation_prompt);
    const GenerateRequest submitted = engine_->submitted().back();
    EXPECT_EQ(submitted.prompt_text, "<user>Hi\n<assistant>");
    const json& usage = body["usage"];
    EXPECT_EQ(usage["input_tokens"], submitted.prompt_token_ids.size());
    EXPECT_EQ(usage["output_tokens"], 3);
    EXPECT_EQ(usage["total_tokens"], submitted.prompt_token_ids.size() + 3);
    EXPECT_EQ(usage["input_tokens_details"]["cached_tokens"], 0);
    EXPECT_EQ(usage["output_tokens_details"]["reasoning_tokens"], 0);
}

TEST_F(ServerTest, ResponsesStopGivesCompleted) {
    const json body = response_body(
        post("/v1/responses", json{{"input", "STOP_AT_C"}, {"max_output_tokens", 10}}));
    EXPECT_EQ(body["status"], "completed");
    EXPECT_TRUE(body["incomplete_details"].is_null());
    EXPECT_EQ(body["output"][0]["status"], "completed");
    EXPECT_EQ(body["output"][0]["content"][0]["text"], "ab");
}

TEST_F(ServerTest, ResponsesInstructionsAndInputItemsBecomeMessages) {
    const json input = json::parse(R"([
        {"role": "developer", "content": "Be brief."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"},
                                                        {"type": "input_text", "text": "you"}]},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Yo", "annotations": []}]},
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Ok?"}
    ])");
    const json body = response_body(
        post("/v1/responses",
             json{{"input", input}, {"instructions", "A test."}, {"max_output_tokens", 2}}));
    EXPECT_EQ(body["instructions"], "A test.");
    EXPECT_EQ(engine_->last_chat().messages, json::parse(R"([
        {"role": "system", "content": "A test."},
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "Hi\nyou"},
        {"role": "assistant", "content": "Yo"},
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Ok?"}
    ])"));
    EXPECT_EQ(body["output"][0]["content"][0]["text"], "ab");
}

TEST_F(ServerTest, ResponsesSamplingFieldsReachTheEngine) {
    const json body = response_body(post("/v1/responses", json{{"input", "Hi"},
                                                               {"max_output_tokens", 4},
                                                               {"temperature", 0.5},
                                                               {"top_p", 0.75},
                                                               {"top_k", 7},
                                                               {"logit_bias", {{"70", 5}}},
                                                               {"store", false},
                                                               {"metadata", {{"k", "v"}}},
                                                               {"user", "u1"},
                                                               {"tool_choice", "none"},
                                                               {"request_id", "resp_mine"}}));
    const SamplingParams params = engine_->submitted().back().params;
    EXPECT_EQ(params.max_tokens, 4);
    EXPECT_FLOAT_EQ(params.temperature, 0.5f);
    EXPECT_FLOAT_EQ(params.top_p, 0.75f);
    EXPECT_EQ(params.top_k, 7);
    EXPECT_EQ(params.logit_bias, (std::map<int64_t, float>{{70, 5.0f}}));
    EXPECT_EQ(body["id"], "resp_mine");
    EXPECT_FLOAT_EQ(body["temperature"].get<float>(), 0.5f);
    EXPECT_FLOAT_EQ(body["top_p"].get<float>(), 0.75f);
    EXPECT_EQ(body["metadata"], json({{"k", "v"}}));
    EXPECT_EQ(body["user"], "u1");
    EXPECT_EQ(body["tool_choice"], "none");
    EXPECT_EQ(body["store"], false);
}

TEST_F(ServerTest, ResponsesTakeTheServersDefaultsWhereTheRequestHasNone) {
    ServerOptions options;
    options.default_sampling_params = {{"temperature", 0.25}, {"top_k", 20}, {"max_tokens", 5}};
    start(options);
    const json body = response_body(post("/v1/responses", json{{"input", "Hi"}, {"top_k", 3}}));
    const SamplingParams params = engine_->submitted().back().params;
    EXPECT_FLOAT_EQ(params.temperature, 0.25f);
    EXPECT_EQ(params.top_k, 3);
    EXPECT_EQ(params.max_tokens, 5);
    EXPECT_EQ(body["usage"]["output_tokens"], 5);
}

TEST_F(ServerTest, ResponsesStreamSendsTheEventsInOrder) {
    const auto result =
        post("/v1/responses", json{{"input", "Hi"}, {"max_output_tokens", 4}, {"stream", true}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "text/event-stream");
    // Every frame names its event, and the name equals the payload's type.
    EXPECT_EQ(result->body.rfind("event: response.created\ndata: {", 0), 0u);
    const std::vector<json> events = parse_sse(result->body);
    ASSERT_GE(events.size(), 9u);
    std::vector<std::string> types;
    std::string deltas;
    for (size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i]["sequence_number"], i);
        const std::string type = events[i]["type"];
        EXPECT_NE(result->body.find("event: " + type + "\n"), std::string::npos) << type;
        if (type == "response.output_text.delta") {
            deltas += events[i]["delta"].get<std::string>();
            EXPECT_EQ(events[i]["output_index"], 0);
            EXPECT_EQ(events[i]["content_index"], 0);
            if (!types.empty() && types.back() == type) continue;
        }
        types.push_back(type);
    }
    EXPECT_EQ(types, (std::vector<std::string>{
                         "response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added", "response.output_text.delta",
                         "response.output_text.done", "response.content_part.done",
                         "response.output_item.done", "response.completed"}));
    EXPECT_EQ(deltas, "abcd");
    const json& created = events[0]["response"];
    EXPECT_EQ(created["status"], "in_progress");
    EXPECT_EQ(created["output"], json::array());
    EXPECT_TRUE(created["usage"].is_null());
    const std::string item_id = events[2]["item"]["id"];
    EXPECT_EQ(events[2]["item"]["status"], "in_progress");
    EXPECT_EQ(events[3]["item_id"], item_id);
    EXPECT_EQ(events[3]["part"]["text"], "");
    const json& text_done = events[events.size() - 4];
    EXPECT_EQ(text_done["text"], "abcd");
    EXPECT_EQ(events[events.size() - 3]["part"]["text"], "abcd");
    EXPECT_EQ(events[events.size() - 2]["item"]["content"][0]["text"], "abcd");
    const json& completed = events.back()["response"];
    EXPECT_EQ(completed["id"], created["id"]);
    EXPECT_EQ(completed["status"], "incomplete");
    EXPECT_EQ(completed["output"][0]["id"], item_id);
    EXPECT_EQ(completed["output"][0]["content"][0]["text"], "abcd");
    EXPECT_EQ(completed["usage"]["output_tokens"], 4);
}

TEST_F(ServerTest, ResponsesStreamOfAFailedEngineEndsWithResponseFailed) {
    const auto result = post("/v1/responses", json{{"input", "FAIL_STREAM"}, {"stream", true}});
    ASSERT_TRUE(result);
    const std::vector<json> events = parse_sse(result->body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["type"], "response.failed");
    EXPECT_EQ(events.back()["response"]["status"], "failed");
    EXPECT_NE(events.back()["response"]["error"]["message"].get<std::string>().find("failed"),
              std::string::npos);
}

// include ["message.output_text.logprobs"]: chat's logprob entries on the output_text part
// and on each delta. The fake engine scripts them: token k has logprob -0.5 (k + 1), and
// the top-N are 'z', 'y', ... with -1, -2, ...
TEST_F(ServerTest, ResponsesOutputLogprobsWhenIncluded) {
    const json fields = {{"input", "Hi"},
                         {"max_output_tokens", 3},
                         {"include", {"message.output_text.logprobs"}},
                         {"top_logprobs", 2}};
    const json body = response_body(post("/v1/responses", fields));
    EXPECT_EQ(engine_->submitted().back().params.logprobs, 2);
    EXPECT_EQ(body["top_logprobs"], 2);
    const json& logprobs = body["output"][0]["content"][0]["logprobs"];
    ASSERT_EQ(logprobs.size(), 3u) << logprobs.dump();
    for (size_t k = 0; k < 3; ++k) {
        EXPECT_EQ(logprobs[k]["token"], std::string(1, char('a' + k)));
        EXPECT_DOUBLE_EQ(logprobs[k]["logprob"].get<double>(), -0.5 * double(k + 1));
        ASSERT_EQ(logprobs[k]["top_logprobs"].size(), 2u);
        EXPECT_EQ(logprobs[k]["top_logprobs"][0]["token"], "z");
        EXPECT_EQ(logprobs[k]["top_logprobs"][1]["token"], "y");
    }
    json streamed_fields = fields;
    streamed_fields["stream"] = true;
    const auto streamed = post("/v1/responses", streamed_fields);
    ASSERT_TRUE(streamed);
    json deltas = json::array();
    for (const json& event : parse_sse(streamed->body)) {
        if (event["type"] != "response.output_text.delta") continue;
        for (const json& entry : event["logprobs"]) deltas.push_back(entry);
    }
    EXPECT_EQ(deltas, logprobs);
    const json plain =
        response_body(post("/v1/responses", json{{"input", "Hi"}, {"max_output_tokens", 1}}));
    EXPECT_EQ(plain["output"][0]["content"][0]["logprobs"], json::array());
    EXPECT_FALSE(engine_->submitted().back().params.logprobs.has_value());
}

TEST_F(ServerTest, ResponsesRefuseWhatTheyDoNotHonourByName) {
    const json tool = {{"type", "function"}, {"name", "f"}, {"parameters", json::object()}};
    const std::vector<std::pair<json, std::string>> cases = {
        {{{"previous_response_id", "resp_1"}}, "previous_response_id"},
        {{{"conversation", "conv_1"}}, "conversation"},
        {{{"background", true}}, "background"},
        {{{"tools", {tool}}}, "tools"},
        {{{"tool_choice", "required"}}, "tool_choice"},
        {{{"include", {"file_search_call.results"}}}, "include"},
        {{{"top_logprobs", 21}, {"include", {"message.output_text.logprobs"}}}, "top_logprobs"},
        {{{"top_logprobs", 2}}, "top_logprobs"},
        {{{"prompt", {{"id", "p"}}}}, "prompt"},
        {{{"reasoning", {{"effort", "low"}}}}, "reasoning"},
        {{{"max_tool_calls", 2}}, "max_tool_calls"},
        {{{"truncation", "auto"}}, "truncation"},
        {{{"service_tier", "flex"}}, "service_tier"},
        {{{"priority", 1}}, "priority"},
        {{{"cache_salt", "s"}}, "cache_salt"},
        {{{"text", {{"verbosity", "low"}}}}, "text.verbosity"},
        {{{"text", {{"format", {{"type", "yaml"}}}}}}, "text.format.type"},
        {{{"stream", true}, {"stream_options", {{"include_obfuscation", true}}}},
         "stream_options.include_obfuscation"},
        {{{"max_output_tokens", 0}}, "max_output_tokens"},
        {{{"max_output_tokens", 1000}}, "max_output_tokens"},  // beyond the context (128)
        {{{"temperature", -1}}, "temperature"},
        {{{"instructions", 5}}, "instructions"},
        {{{"input", json::array()}}, "input"},
        {{{"input", {{{"type", "function_call_output"}, {"call_id", "c"}, {"output", "x"}}}}},
         "input[0].type"},
        {{{"input", {{{"role", "wizard"}, {"content", "x"}}}}}, "input[0].role"},
        {{{"input", {{{"role", "user"}}}}}, "input[0].content"},
        {{{"input",
           {{{"role", "user"},
             {"content", {{{"type", "input_image"}, {"image_url", "http://x/y.png"}}}}}}}},
         "input[0].content[0].type"},
        {{{"input", {{{"role", "user"}, {"content", {{{"type", "input_text"}}}}}}}},
         "input[0].content[0].text"},
    };
    for (const auto& [fields, param] : cases) {
        json body = {{"input", "Hi"}};
        body.update(fields);
        const json error = expect_error(post("/v1/responses", body), 400);
        EXPECT_EQ(error["param"], param) << body.dump() << " -> " << error.dump();
        EXPECT_NE(error["message"].get<std::string>().find(param.substr(0, param.find('['))),
                  std::string::npos)
            << error["message"];
    }
    EXPECT_TRUE(engine_->submitted().empty());
    expect_error(post("/v1/responses", json{{"model", "other"}, {"input", "Hi"}}), 404);
    EXPECT_EQ(expect_error(post("/v1/responses", json{{"max_output_tokens", 3}}), 400)["param"],
              "input");
}

TEST_F(ServerTest, ResponsesAcceptTheDefaultsOfRefusedFields) {
    const json body =
        response_body(post("/v1/responses", json{{"input", "Hi"},
                                                 {"max_output_tokens", 2},
                                                 {"previous_response_id", nullptr},
                                                 {"background", false},
                                                 {"tools", json::array()},
                                                 {"include", json::array()},
                                                 {"top_logprobs", 0},
                                                 {"truncation", "disabled"},
                                                 {"service_tier", "auto"},
                                                 {"store", true},
                                                 {"parallel_tool_calls", true},
                                                 {"text", {{"format", {{"type", "text"}}}}}}));
    EXPECT_EQ(body["status"], "incomplete");
    EXPECT_EQ(body["store"], false);  // nothing is kept, whatever store asked
    EXPECT_FALSE(engine_->submitted().back().params.structured_outputs.has_value());
}

TEST_F(ServerTest, ResponsesTextFormatJsonSchemaAsksForStructuredOutput) {
    const json schema = {{"type", "object"}, {"properties", {{"a", {{"type", "integer"}}}}}};
    response_body(post(
        "/v1/responses",
        json{{"input", "Hi"},
             {"max_output_tokens", 2},
             {"text",
              {{"format", {{"type", "json_schema"}, {"name", "thing"}, {"schema", schema}}}}}}));
    const auto structured = engine_->submitted().back().params.structured_outputs;
    ASSERT_TRUE(structured.has_value());
    ASSERT_TRUE(structured->json.has_value());
    EXPECT_EQ(json::parse(*structured->json), schema);
}

TEST_F(ServerTest, ResponsesAnswerEngineFailuresAndRefusals) {
    expect_error(post("/v1/responses", json{{"input", "FAIL_STREAM"}}), 500);
    const json refused = expect_error(post("/v1/responses", json{{"input", "REFUSE"}}), 400);
    EXPECT_NE(refused["message"].get<std::string>().find("refused"), std::string::npos);
    const json error = expect_error(
        post("/v1/responses", json{{"input", "BAD_TEMPLATE"}, {"max_output_tokens", 2}}), 400);
    EXPECT_NE(error["message"].get<std::string>().find("BAD_TEMPLATE"), std::string::npos);
}

TEST(RequestFields, EveryVllmResponsesFieldIsKnown) {
    // vLLM's ResponsesRequest (vllm/entrypoints/openai/responses/protocol.py).
    const std::vector<std::string> vllm = {"background",
                                           "include",
                                           "input",
                                           "instructions",
                                           "max_output_tokens",
                                           "max_tool_calls",
                                           "metadata",
                                           "model",
                                           "logit_bias",
                                           "parallel_tool_calls",
                                           "previous_response_id",
                                           "prompt",
                                           "reasoning",
                                           "service_tier",
                                           "store",
                                           "stream",
                                           "temperature",
                                           "text",
                                           "tool_choice",
                                           "tools",
                                           "top_logprobs",
                                           "top_p",
                                           "top_k",
                                           "truncation",
                                           "user",
                                           "skip_special_tokens",
                                           "request_id",
                                           "mm_processor_kwargs",
                                           "priority",
                                           "cache_salt",
                                           "enable_response_messages",
                                           "previous_input_messages"};
    const std::vector<std::string> known = known_request_fields(Endpoint::responses);
    for (const std::string& name : vllm) {
        EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
    }
}

}  // namespace
}  // namespace ovllm::server::test
