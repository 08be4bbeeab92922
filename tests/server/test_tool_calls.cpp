// Tool calling and reasoning through the server over scripted model outputs: message
// tool_calls and reasoning_content, streamed deltas assembling to the same, tool_choice
// auto / required / named / none, and what reaches the chat template.
#include <regex>

#include "server/chat_output.hpp"
#include "server_fixture.hpp"
#include "util/error.hpp"

namespace ovllm::server::test {
namespace {

const json kWeatherTool = json::parse(R"({"type": "function", "function": {
    "name": "get_weather", "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
        "required": ["city"]}}})");
const json kTimeTool = json::parse(
    R"({"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}})");

// What Qwen2.5 writes for a call (without the newlines, which the fake tokenizer lacks).
const std::string kHermesCall =
    R"(<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}})"
    R"(</tool_call>)";

json chat_request(json extra = json::object()) {
    json body = {{"messages", {{{"role", "user"}, {"content", "Weather in Paris?"}}}},
                 {"tools", {kWeatherTool, kTimeTool}}};
    for (const auto& [key, value] : extra.items()) body[key] = value;
    return body;
}

// What a client assembles from a chat stream.
struct Assembled {
    std::string reasoning, content;
    std::vector<json> calls;  // {id, name, arguments}
    std::string finish_reason;
};

Assembled assemble(const std::string& body) {
    bool done = false;
    const std::vector<json> events = parse_sse(body, &done);
    EXPECT_TRUE(done);
    Assembled out;
    for (const json& event : events) {
        for (const json& choice : event["choices"]) {
            const json& delta = choice["delta"];
            if (delta.contains("reasoning_content"))
                out.reasoning += delta["reasoning_content"].get<std::string>();
            if (delta.contains("content") && delta["content"].is_string())
                out.content += delta["content"].get<std::string>();
            for (const json& call : delta.value("tool_calls", json::array())) {
                const size_t index = call["index"].get<size_t>();
                if (call.contains("id")) {
                    // A call opens with its id and name, before any argument text.
                    EXPECT_EQ(index, out.calls.size());
                    EXPECT_EQ(call["type"], "function");
                    EXPECT_EQ(call["function"]["arguments"], "");
                    out.calls.push_back({{"id", call["id"]},
                                         {"name", call["function"]["name"]},
                                         {"arguments", ""}});
                } else {
                    EXPECT_FALSE(call["function"].contains("name"));
                    EXPECT_EQ(index + 1, out.calls.size()) << "a fragment before its call";
                    out.calls.back()["arguments"] =
                        out.calls.back()["arguments"].get<std::string>() +
                        call["function"]["arguments"].get<std::string>();
                }
            }
            if (!choice["finish_reason"].is_null())
                out.finish_reason = choice["finish_reason"].get<std::string>();
        }
    }
    return out;
}

void expect_weather_call(const std::string& name, const std::string& arguments) {
    EXPECT_EQ(name, "get_weather");
    const json args = json::parse(arguments, nullptr, false);
    ASSERT_FALSE(args.is_discarded()) << arguments;
    EXPECT_EQ(args, json({{"city", "Paris"}, {"unit", "celsius"}}));
}

class ToolServerTest : public ServerTest {
  protected:
    // Room for a scripted call (a character a token) after the prompt.
    static constexpr int kContext = 1024;
    static constexpr std::chrono::microseconds kTick{50};
    void SetUp() override {
        ServerOptions options;
        options.parsers = {true, "hermes", ""};
        start(options, kTick, kContext);
    }
    json post_json(const json& body) {
        const auto result = post("/v1/chat/completions", body);
        EXPECT_TRUE(result);
        if (!result) return {};
        EXPECT_EQ(result->status, 200) << result->body;
        return json::parse(result->body);
    }
    Assembled post_stream(json body) {
        body["stream"] = true;
        const auto result = post("/v1/chat/completions", body);
        EXPECT_TRUE(result);
        if (!result) return {};
        EXPECT_EQ(result->status, 200) << result->body;
        return assemble(result->body);
    }
};

TEST_F(ToolServerTest, AutoParsesHermesCallsOutOfTheText) {
    engine_->set_script("Let me check. " + kHermesCall);
    const json choice = post_json(chat_request())["choices"][0];
    const json& message = choice["message"];
    EXPECT_EQ(message["content"], "Let me check. ");
    ASSERT_EQ(message["tool_calls"].size(), 1u);
    const json& call = message["tool_calls"][0];
    EXPECT_TRUE(
        std::regex_match(call["id"].get<std::string>(), std::regex("call_[0-9A-Za-z]{24}")));
    EXPECT_EQ(call["type"], "function");
    expect_weather_call(call["function"]["name"], call["function"]["arguments"]);
    EXPECT_EQ(choice["finish_reason"], "tool_calls");

    // Only a call: content is null.
    engine_->set_script(kHermesCall);
    EXPECT_TRUE(post_json(chat_request())["choices"][0]["message"]["content"].is_null());
    // No call: plain content, finish_reason stop.
    engine_->set_script("It is sunny.");
    const json plain = post_json(chat_request())["choices"][0];
    EXPECT_EQ(plain["message"]["content"], "It is sunny.");
    EXPECT_TRUE(plain["message"]["tool_calls"].empty());
    EXPECT_EQ(plain["finish_reason"], "stop");
}

TEST_F(ToolServerTest, StreamedCallsAssembleToTheSameCalls) {
    engine_->set_script("Let me check. " + kHermesCall +
                        R"(<tool_call>{"name": "get_time", )"
                        R"("arguments": {}}</tool_call>)");
    const Assembled got = post_stream(chat_request());
    EXPECT_EQ(got.content, "Let me check. ");
    ASSERT_EQ(got.calls.size(), 2u);
    expect_weather_call(got.calls[0]["name"], got.calls[0]["arguments"]);
    EXPECT_EQ(got.calls[1]["name"], "get_time");
    EXPECT_EQ(json::parse(got.calls[1]["arguments"].get<std::string>()), json::object());
    EXPECT_NE(got.calls[0]["id"], got.calls[1]["id"]);
    EXPECT_EQ(got.finish_reason, "tool_calls");

    // parallel_tool_calls false keeps the first call only, streamed or not.
    const Assembled one = post_stream(chat_request({{"parallel_tool_calls", false}}));
    EXPECT_EQ(one.calls.size(), 1u);
    EXPECT_EQ(post_json(chat_request(
                  {{"parallel_tool_calls", false}}))["choices"][0]["message"]["tool_calls"]
                  .size(),
              1u);
}

TEST_F(ToolServerTest, NoneReturnsTextAndStillShowsTheTemplateTheTools) {
    engine_->set_script(kHermesCall);
    const json choice = post_json(chat_request({{"tool_choice", "none"}}))["choices"][0];
    EXPECT_EQ(choice["message"]["content"], kHermesCall);
    EXPECT_TRUE(choice["message"]["tool_calls"].empty());
    EXPECT_EQ(choice["finish_reason"], "stop");
    EXPECT_EQ(engine_->last_chat().tools.size(), 2u);
    const Assembled streamed = post_stream(chat_request({{"tool_choice", "none"}}));
    EXPECT_EQ(streamed.content, kHermesCall);
    EXPECT_TRUE(streamed.calls.empty());
}

TEST_F(ToolServerTest, NamedFunctionIsConstrainedToItsParameters) {
    const json named = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
    engine_->set_script(R"({"city": "Paris", "unit": "celsius"})");
    const json choice = post_json(chat_request({{"tool_choice", named}}))["choices"][0];
    // The grammar the engine got is the function's parameters schema.
    const auto structured = engine_->submitted().back().params.structured_outputs;
    ASSERT_TRUE(structured && structured->json);
    EXPECT_EQ(json::parse(*structured->json), kWeatherTool["function"]["parameters"]);
    ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u);
    const json& call = choice["message"]["tool_calls"][0];
    expect_weather_call(call["function"]["name"], call["function"]["arguments"]);
    EXPECT_TRUE(choice["message"]["content"].is_null());
    EXPECT_EQ(choice["finish_reason"], "tool_calls");

    const Assembled got = post_stream(chat_request({{"tool_choice", named}}));
    ASSERT_EQ(got.calls.size(), 1u);
    expect_weather_call(got.calls[0]["name"], got.calls[0]["arguments"]);
    EXPECT_EQ(got.content, "");
    EXPECT_EQ(got.finish_reason, "tool_calls");
}

TEST_F(ToolServerTest, RequiredIsAConstrainedListOfCalls) {
    engine_->set_script(R"([{"name": "get_weather", "parameters": {"city": "Paris", )"
                        R"("unit": "celsius"}}, {"name": "get_time", "parameters": {}}])");
    const json choice = post_json(chat_request({{"tool_choice", "required"}}))["choices"][0];
    const auto structured = engine_->submitted().back().params.structured_outputs;
    ASSERT_TRUE(structured && structured->json);
    const json schema = json::parse(*structured->json);
    EXPECT_EQ(schema["type"], "array");
    EXPECT_EQ(schema["minItems"], 1);
    EXPECT_EQ(schema["items"]["anyOf"].size(), 2u);
    const json& calls = choice["message"]["tool_calls"];
    ASSERT_EQ(calls.size(), 2u);
    expect_weather_call(calls[0]["function"]["name"], calls[0]["function"]["arguments"]);
    EXPECT_EQ(calls[1]["function"]["name"], "get_time");
    EXPECT_EQ(choice["finish_reason"], "tool_calls");

    const Assembled got = post_stream(chat_request({{"tool_choice", "required"}}));
    ASSERT_EQ(got.calls.size(), 2u);
    expect_weather_call(got.calls[0]["name"], got.calls[0]["arguments"]);

    // One call only: the schema allows one item.
    post_json(chat_request({{"tool_choice", "required"}, {"parallel_tool_calls", false}}));
    EXPECT_EQ(json::parse(*engine_->submitted().back().params.structured_outputs->json)["maxItems"],
              1);
}

TEST_F(ToolServerTest, TemplateGetsToolsInClientOrderAndCallArgumentsAsObjects) {
    // Raw text: the key order (function before type, parameters before name) is the client's.
    const std::string body = R"({"messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"unit\": \"celsius\", \"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
      "tools": [{"function": {"parameters": {"type": "object"}, "name": "f"}, "type": "function"}],
      "tool_choice": "none", "max_tokens": 2})";
    const auto result = post("/v1/chat/completions", body);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const ChatTemplateRequest chat = engine_->last_chat();
    EXPECT_EQ(chat.tools.dump(),
              R"([{"function":{"parameters":{"type":"object"},"name":"f"},"type":"function"}])");
    // As vLLM hands them to templates (Qwen2.5's prints them with tojson): an object.
    EXPECT_EQ(chat.messages[1]["tool_calls"][0]["function"]["arguments"].dump(),
              R"({"unit":"celsius","city":"Paris"})");

    const std::string broken = R"({"messages": [{"role": "assistant", "content": null,
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f",
        "arguments": "{not json"}}]}, {"role": "user", "content": "x"}]})";
    const json error = expect_error(post("/v1/chat/completions", broken), 400);
    EXPECT_EQ(error["param"], "messages[0].tool_calls[0].function.arguments");
}

// A chat template that opens <think> for the model unless enable_thinking is false, as the
// thinking variants of Qwen3 and DeepSeek-R1 do.
constexpr const char* kThinkingTemplate =
    "{%- for m in messages %}<|im_start|>{{ m.role }}: {{ m.content }}<|im_end|>{% endfor %}"
    "{%- if add_generation_prompt %}<|im_start|>assistant: "
    "{% if enable_thinking is defined and not enable_thinking %}<think></think>"
    "{%- else %}<think>{% endif %}{% endif %}";

class ReasoningServerTest : public ToolServerTest {
  protected:
    void SetUp() override {
        ServerOptions options;
        options.chat_template = kThinkingTemplate;
        options.parsers = {true, "hermes", "qwen3"};
        start(options, kTick, kContext);
    }
};

TEST_F(ReasoningServerTest, ThinkBlockBecomesReasoningContent) {
    engine_->set_script("The user greets me.</think>Hello!");
    const json body = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 60}};
    const json message = post_json(body)["choices"][0]["message"];
    EXPECT_EQ(engine_->submitted().back().prompt_text,
              "<|im_start|>user: Hi<|im_end|><|im_start|>assistant: <think>");
    EXPECT_EQ(message["reasoning_content"], "The user greets me.");
    EXPECT_EQ(message["content"], "Hello!");

    const Assembled got = post_stream(body);
    EXPECT_EQ(got.reasoning, "The user greets me.");
    EXPECT_EQ(got.content, "Hello!");
    EXPECT_EQ(got.finish_reason, "stop");

    // include_reasoning false leaves the reasoning out; the content is still without it.
    json without = body;
    without["include_reasoning"] = false;
    const json hidden = post_json(without)["choices"][0]["message"];
    EXPECT_TRUE(hidden["reasoning_content"].is_null());
    EXPECT_EQ(hidden["content"], "Hello!");
}

TEST_F(ReasoningServerTest, EnableThinkingFalseReachesTheTemplate) {
    engine_->set_script("Hello!");
    const json body = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                       {"chat_template_kwargs", {{"enable_thinking", false}}},
                       {"max_tokens", 60}};
    const json message = post_json(body)["choices"][0]["message"];
    EXPECT_EQ(engine_->submitted().back().prompt_text,
              "<|im_start|>user: Hi<|im_end|><|im_start|>assistant: <think></think>");
    EXPECT_TRUE(message["reasoning_content"].is_null());
    EXPECT_EQ(message["content"], "Hello!");
}

TEST_F(ReasoningServerTest, ReasoningThenToolCall) {
    engine_->set_script("I need the weather.</think>" + kHermesCall);
    const json choice = post_json(chat_request())["choices"][0];
    EXPECT_EQ(choice["message"]["reasoning_content"], "I need the weather.");
    EXPECT_TRUE(choice["message"]["content"].is_null());
    ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u);
    EXPECT_EQ(choice["finish_reason"], "tool_calls");
    const Assembled got = post_stream(chat_request());
    EXPECT_EQ(got.reasoning, "I need the weather.");
    ASSERT_EQ(got.calls.size(), 1u);
    expect_weather_call(got.calls[0]["name"], got.calls[0]["arguments"]);
}

TEST_F(ReasoningServerTest, GrammarOutputIsContentNotReasoning) {
    // The prompt opens <think>, but a grammar constrains the output from its first token.
    engine_->set_script(R"({"a": 1})");
    const json body = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                       {"response_format", {{"type", "json_object"}}},
                       {"max_tokens", 60}};
    const json message = post_json(body)["choices"][0]["message"];
    EXPECT_EQ(message["content"], R"({"a": 1})");
    EXPECT_TRUE(message.value("reasoning_content", json()).is_null());
    const Assembled got = post_stream(body);
    EXPECT_EQ(got.content, R"({"a": 1})");
    EXPECT_EQ(got.reasoning, "");
}

TEST(ChatParserOptions, UnknownNamesAreOneLineErrors) {
    const auto message = [](ChatParserOptions options) {
        try {
            check_chat_parser_options(options);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(message({true, "nope", ""}).find("--tool-call-parser nope is not known"),
              std::string::npos);
    EXPECT_NE(message({false, "", "nope"}).find("--reasoning-parser nope is not known"),
              std::string::npos);
    EXPECT_NE(message({true, "", ""}).find("--enable-auto-tool-choice needs --tool-call-parser"),
              std::string::npos);
    EXPECT_EQ(message({true, "hermes", "deepseek_r1"}), "");
}

}  // namespace
}  // namespace ovllm::server::test
