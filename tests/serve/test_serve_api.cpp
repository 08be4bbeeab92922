// The real `ovllm serve` on SmolLM2-135M (f32), driven over HTTP like an OpenAI client.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "serve_process.hpp"
#include "test_paths.hpp"

namespace ovllm::serve_test {
namespace {

const char* const kPrompt = "The capital of France is";

json completion(const json& body) {
    const httplib::Result result = shared_server().post("/v1/completions", body);
    EXPECT_TRUE(result);
    if (!result) return json();
    EXPECT_EQ(result->status, 200) << result->body;
    return json::parse(result->body);
}

json greedy_completion(const std::string& prompt, int max_tokens) {
    return completion({{"model", kModelName},
                       {"prompt", prompt},
                       {"max_tokens", max_tokens},
                       {"temperature", 0}});
}

TEST(ServeApi, GreedyCompletionEqualsOfflineGenerate) {
    const json response = greedy_completion(kPrompt, 24);
    ASSERT_EQ(response["choices"].size(), 1u);
    const std::string served = response["choices"][0]["text"];
    EXPECT_EQ(response["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(response["usage"]["completion_tokens"], 24);
    EXPECT_EQ(response["model"], kModelName);

    std::vector<std::string> argv = {ovllm::test::ovllm_binary().string(),
                                     "generate",
                                     "--model",
                                     model_dir().string(),
                                     "--prompt",
                                     kPrompt,
                                     "--max-tokens",
                                     "24"};
    for (const std::string& flag : exact_engine_flags()) argv.push_back(flag);
    int exit_code = -1;
    const std::string printed = run_command(argv, &exit_code);
    ASSERT_EQ(exit_code, 0);
    EXPECT_EQ(printed, served + "\n");
}

TEST(ServeApi, StreamedCompletionMatchesWholeAndReportsUsage) {
    const json whole = greedy_completion(kPrompt, 20);
    const json body = {{"prompt", kPrompt},
                       {"max_tokens", 20},
                       {"temperature", 0},
                       {"stream", true},
                       {"stream_options", {{"include_usage", true}}}};
    const httplib::Result result = shared_server().post("/v1/completions", body);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200);
    bool done = false;
    const std::vector<json> events = parse_sse(result->body, &done);
    EXPECT_TRUE(done);
    ASSERT_GE(events.size(), 2u);
    std::string text;
    for (const json& event : events) {
        if (!event["choices"].empty()) text += event["choices"][0]["text"].get<std::string>();
    }
    EXPECT_EQ(text, whole["choices"][0]["text"]);
    const json& last = events.back();
    EXPECT_TRUE(last["choices"].empty());
    EXPECT_EQ(last["usage"]["completion_tokens"], 20);
    EXPECT_EQ(last["usage"]["prompt_tokens"], whole["usage"]["prompt_tokens"]);
}

TEST(ServeApi, ChatStreamedAndWholeAgree) {
    const json messages = json::array({{{"role", "user"}, {"content", "Name a color."}}});
    const json whole_body = {
        {"model", kModelName}, {"messages", messages}, {"max_tokens", 16}, {"temperature", 0}};
    const httplib::Result whole = shared_server().post("/v1/chat/completions", whole_body);
    ASSERT_TRUE(whole);
    ASSERT_EQ(whole->status, 200) << whole->body;
    const json response = json::parse(whole->body);
    EXPECT_EQ(response["object"], "chat.completion");
    EXPECT_EQ(response["choices"][0]["message"]["role"], "assistant");
    const std::string content = response["choices"][0]["message"]["content"];
    EXPECT_FALSE(content.empty());
    EXPECT_GT(response["usage"]["prompt_tokens"].get<int>(), 5);

    json stream_body = whole_body;
    stream_body["stream"] = true;
    const httplib::Result streamed = shared_server().post("/v1/chat/completions", stream_body);
    ASSERT_TRUE(streamed);
    bool done = false;
    const std::vector<json> events = parse_sse(streamed->body, &done);
    EXPECT_TRUE(done);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front()["choices"][0]["delta"]["role"], "assistant");
    std::string text;
    for (const json& event : events) {
        const json& delta = event["choices"][0]["delta"];
        if (delta.contains("content") && delta["content"].is_string())
            text += delta["content"].get<std::string>();
    }
    EXPECT_EQ(text, content);
    EXPECT_EQ(events.back()["choices"][0]["finish_reason"],
              response["choices"][0]["finish_reason"]);
}

TEST(ServeApi, TwoChoicesAndSeedReproducibility) {
    const json body = {
        {"prompt", kPrompt}, {"max_tokens", 12}, {"temperature", 1.0}, {"n", 2}, {"seed", 1234}};
    const json first = completion(body);
    const json second = completion(body);
    ASSERT_EQ(first["choices"].size(), 2u);
    EXPECT_EQ(first["choices"][0]["index"], 0);
    EXPECT_EQ(first["choices"][1]["index"], 1);
    EXPECT_EQ(first["usage"]["completion_tokens"], 24);
    for (size_t i = 0; i < 2; ++i)
        EXPECT_EQ(first["choices"][i]["text"], second["choices"][i]["text"]);

    // Other seeds give other samples (12 tokens at temperature 1 never all coincide).
    bool differs = false;
    for (int seed : {1, 2, 3}) {
        json other = body;
        other["seed"] = seed;
        other["n"] = 1;
        differs |= completion(other)["choices"][0]["text"] != first["choices"][0]["text"];
    }
    EXPECT_TRUE(differs);
}

TEST(ServeApi, StopStringCutsTheOutput) {
    const std::string full = greedy_completion(kPrompt, 24)["choices"][0]["text"];
    ASSERT_GE(full.size(), 12u);
    // A stop string from the middle of the greedy text: the output ends right before it.
    const std::string stop = full.substr(full.size() / 2, 3);
    const size_t cut = full.find(stop);
    const json response = completion({{"prompt", kPrompt},
                                      {"max_tokens", 24},
                                      {"temperature", 0},
                                      {"stop", json::array({stop})}});
    EXPECT_EQ(response["choices"][0]["text"], full.substr(0, cut));
    EXPECT_EQ(response["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(response["choices"][0]["stop_reason"], stop);
}

TEST(ServeApi, LogprobsDescribeTheGreedyTokens) {
    const json response =
        completion({{"prompt", kPrompt}, {"max_tokens", 8}, {"temperature", 0}, {"logprobs", 3}});
    const json& logprobs = response["choices"][0]["logprobs"];
    ASSERT_EQ(logprobs["tokens"].size(), 8u);
    ASSERT_EQ(logprobs["token_logprobs"].size(), 8u);
    ASSERT_EQ(logprobs["top_logprobs"].size(), 8u);
    std::string joined;
    for (size_t i = 0; i < 8; ++i) {
        joined += logprobs["tokens"][i].get<std::string>();
        const double chosen = logprobs["token_logprobs"][i];
        EXPECT_LE(chosen, 0.0);
        double best = -INFINITY;
        for (const auto& [token, value] : logprobs["top_logprobs"][i].items())
            best = std::max(best, value.get<double>());
        EXPECT_GE(logprobs["top_logprobs"][i].size(), 3u);
        EXPECT_DOUBLE_EQ(chosen, best);  // greedy picks the most likely token
    }
    EXPECT_EQ(joined, response["choices"][0]["text"]);
}

TEST(ServeApi, ErrorsHaveVllmStatusesAndMessages) {
    ServeServer& server = shared_server();
    const json unknown = expect_error(
        server.post("/v1/completions", {{"model", "no-such-model"}, {"prompt", "hi"}}), 404);
    EXPECT_EQ(unknown["message"], "The model `no-such-model` does not exist.");

    std::string long_prompt;
    for (int i = 0; i < 2100; ++i) long_prompt += " hello";
    const json too_long = expect_error(
        server.post("/v1/completions", {{"prompt", long_prompt}, {"max_tokens", 10}}), 400);
    EXPECT_NE(too_long["message"].get<std::string>().find(
                  "This model's maximum context length is 2048 tokens."),
              std::string::npos)
        << too_long["message"];

    httplib::Client client = server.client();
    const auto no_key =
        client.Post("/v1/completions", json{{"prompt", "hi"}}.dump(), "application/json");
    expect_error(no_key, 401);
    const auto bad_key = client.Post("/v1/completions", {{"Authorization", "Bearer wrong"}},
                                     json{{"prompt", "hi"}}.dump(), "application/json");
    expect_error(bad_key, 401);
    const auto models_no_key = client.Get("/v1/models");
    expect_error(models_no_key, 401);
    const auto health = client.Get("/health");  // not under /v1: no key needed
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);

    const auto malformed =
        client.Post("/v1/completions", server.auth(), "{\"prompt\": ", "application/json");
    expect_error(malformed, 400);
}

TEST(ServeApi, ModelsListsMaxModelLen) {
    const httplib::Result result = shared_server().get("/v1/models");
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200);
    const json models = json::parse(result->body);
    ASSERT_EQ(models["data"].size(), 1u);
    EXPECT_EQ(models["data"][0]["id"], kModelName);
    EXPECT_EQ(models["data"][0]["max_model_len"], kMaxModelLen);
}

TEST(ServeApi, MetricsCountRequestsAndTokens) {
    ServeServer& server = shared_server();
    const std::string success = "vllm:request_success_total";
    const double requests_before = server.metric("vllm:generation_tokens_total");
    const json response = greedy_completion(kPrompt, 7);
    const double prompt_tokens = response["usage"]["prompt_tokens"];
    EXPECT_GT(prompt_tokens, 0);
    EXPECT_EQ(server.metric("vllm:generation_tokens_total"), requests_before + 7);
    EXPECT_GE(server.metric("vllm:prompt_tokens_total"), prompt_tokens);
    EXPECT_GE(server.metric(success), 1);
    EXPECT_EQ(server.metric("vllm:num_requests_running"), 0);
}

}  // namespace
}  // namespace ovllm::serve_test
