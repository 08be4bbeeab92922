// Thousands of random and mutated request bodies (fixed seed): every answer is a 200 with a
// well-formed body or a 4xx with an OpenAI error body. Never a 5xx, a crash or a hang.
#include <random>

#include "server_fixture.hpp"

namespace ovllm::server::test {
namespace {

class FuzzTest : public ServerTest {
  protected:
    void SetUp() override { start({}, std::chrono::microseconds(1)); }
};

const std::vector<std::string> kFields = {"model",
                                          "prompt",
                                          "messages",
                                          "max_tokens",
                                          "max_completion_tokens",
                                          "temperature",
                                          "top_p",
                                          "n",
                                          "stop",
                                          "seed",
                                          "logprobs",
                                          "top_logprobs",
                                          "echo",
                                          "presence_penalty",
                                          "frequency_penalty",
                                          "logit_bias",
                                          "stream",
                                          "stream_options",
                                          "user",
                                          "top_k",
                                          "min_p",
                                          "repetition_penalty",
                                          "stop_token_ids",
                                          "include_stop_str_in_output",
                                          "ignore_eos",
                                          "min_tokens",
                                          "skip_special_tokens",
                                          "add_generation_prompt",
                                          "chat_template_kwargs",
                                          "tools",
                                          "tool_choice",
                                          "continue_final_message",
                                          "response_format",
                                          "tokens",
                                          "add_special_tokens",
                                          "suffix"};

class BodyFuzzer {
  public:
    explicit BodyFuzzer(uint64_t seed) : rng_(seed) {}

    size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

    json random_value(int depth = 0) {
        switch (pick(depth > 2 ? 6 : 9)) {
            case 0:
                return nullptr;
            case 1:
                return pick(2) == 1;
            case 2: {
                static const std::vector<int64_t> ints = {
                    -1, 0, 1, 2, 3, 5, 17, 21, 100, 127, 300, 1LL << 31, -(1LL << 40)};
                return ints[pick(ints.size())];
            }
            case 3: {
                static const std::vector<double> reals = {-2.5, -0.0, 0.5,  1.0,
                                                          2.0,  3.5,  1e20, 1e-9};
                return reals[pick(reals.size())];
            }
            case 4:
                return random_string();
            case 5:
                return "a";
            case 6: {
                json array = json::array();
                for (size_t i = pick(4); i > 0; --i) array.push_back(random_value(depth + 1));
                return array;
            }
            case 7: {
                json object = json::object();
                for (size_t i = pick(4); i > 0; --i) {
                    object[kFields[pick(kFields.size())]] = random_value(depth + 1);
                }
                return object;
            }
            default:
                return message_list(depth + 1);
        }
    }

    std::string random_string() {
        static const std::vector<std::string> pieces = {
            "",     "a",      "Hi", "user", "text", "json_object", "fake-model", "\xff\xfe",
            "\xc3", "\u00e9", "\n", "\"",   "{",    "5",           "REFUSE "};
        std::string text;
        for (size_t i = pick(4); i > 0; --i) text += pieces[pick(pieces.size())];
        return text;
    }

    json message_list(int depth) {
        json messages = json::array();
        for (size_t i = pick(3) + 1; i > 0; --i) {
            json message = {{"role", pick(4) == 0 ? random_value(depth) : json("user")}};
            if (pick(5) != 0) {
                message["content"] =
                    pick(3) == 0
                        ? json::array({{{"type", random_string()}, {"text", random_value(depth)}}})
                        : random_value(depth);
            }
            messages.push_back(std::move(message));
        }
        return messages;
    }

    json base_body(const std::string& endpoint) {
        if (endpoint == "/v1/chat/completions") {
            return {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 3}};
        }
        if (endpoint == "/detokenize") return {{"tokens", {70, 71}}};
        return {{"prompt", "Hi"}, {"max_tokens", 3}};
    }

    // A body: a valid request with a few fields set to random values, or its text mangled.
    std::string body(const std::string& endpoint) {
        json request = base_body(endpoint);
        for (size_t i = pick(4) + 1; i > 0; --i) {
            const std::string& name = kFields[pick(kFields.size())];
            if (pick(6) == 0) {
                request.erase(name);
            } else {
                request[name] = random_value();
            }
        }
        std::string text = request.dump(-1, ' ', false, json::error_handler_t::replace);
        if (pick(4) == 0 && !text.empty()) {
            switch (pick(3)) {
                case 0:
                    text.resize(pick(text.size()));
                    break;
                case 1:
                    text[pick(text.size())] = static_cast<char>(pick(256));
                    break;
                default:
                    text.insert(pick(text.size()), 1, "{[\",:}]\\"[pick(8)]);
            }
        }
        return text;
    }

  private:
    std::mt19937_64 rng_;
};

void check_answer(const httplib::Result& result, const std::string& body) {
    ASSERT_TRUE(result) << "no answer to " << body;
    const int status = result->status;
    ASSERT_TRUE(status == 200 || (status >= 400 && status < 500))
        << status << " " << result->body << " for " << body;
    if (status != 200) {
        const json error = json::parse(result->body, nullptr, false);
        ASSERT_TRUE(error.is_object() && error.contains("error")) << result->body;
        EXPECT_TRUE(error["error"]["message"].is_string());
        EXPECT_EQ(error["error"]["code"], status);
        return;
    }
    if (result->get_header_value("Content-Type") == "text/event-stream") {
        bool done = false;
        const auto events = parse_sse(result->body, &done);
        EXPECT_TRUE(done) << body;
        for (const json& event : events) EXPECT_FALSE(event.contains("error")) << body;
        return;
    }
    const json parsed = json::parse(result->body, nullptr, false);
    EXPECT_TRUE(parsed.is_object()) << result->body;
}

TEST_F(FuzzTest, RandomBodiesNeverCrashOrFailInternally) {
    const std::vector<std::string> endpoints = {"/v1/completions", "/v1/chat/completions",
                                                "/tokenize", "/detokenize"};
    BodyFuzzer fuzzer(20261126);
    httplib::Client http = client();
    http.set_keep_alive(true);
    size_t ok = 0, rejected = 0;
    for (int i = 0; i < 3000; ++i) {
        const std::string& endpoint = endpoints[fuzzer.pick(endpoints.size())];
        const std::string body = fuzzer.body(endpoint);
        const auto result = http.Post(endpoint.c_str(), body, "application/json");
        check_answer(result, body);
        if (HasFatalFailure()) return;
        (result && result->status == 200 ? ok : rejected) += 1;
    }
    // Both outcomes must be exercised for the test to mean anything.
    EXPECT_GT(ok, 300u);
    EXPECT_GT(rejected, 300u);
    EXPECT_EQ(get("/health")->status, 200);
}

}  // namespace
}  // namespace ovllm::server::test
