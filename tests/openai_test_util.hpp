#pragma once
// Checks on OpenAI-style HTTP responses, shared by the server tests (fake engine) and the
// `ovllm serve` end-to-end tests (real model).
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

namespace ovllm::test {

// The JSON payloads of an SSE body; sets `done` when the stream ended with [DONE]. A frame's
// `event:` line (the Responses API names each event) is skipped.
inline std::vector<nlohmann::json> parse_sse(const std::string& body, bool* done = nullptr) {
    std::vector<nlohmann::json> events;
    if (done) *done = false;
    size_t position = 0;
    while (position < body.size()) {
        const size_t end = body.find("\n\n", position);
        if (end == std::string::npos) break;
        std::string frame = body.substr(position, end - position);
        position = end + 2;
        if (frame.rfind("event: ", 0) == 0 && frame.find('\n') != std::string::npos) {
            frame.erase(0, frame.find('\n') + 1);
        }
        if (frame.rfind("data: ", 0) != 0) continue;
        const std::string payload = frame.substr(6);
        if (payload == "[DONE]") {
            if (done) *done = true;
            continue;
        }
        events.push_back(nlohmann::json::parse(payload));
    }
    return events;
}

// Asserts an OpenAI error body with the given status and returns its "error" object.
inline nlohmann::json expect_error(const httplib::Result& result, int status) {
    EXPECT_TRUE(result) << "no response";
    if (!result) return nlohmann::json();
    EXPECT_EQ(result->status, status) << result->body;
    const nlohmann::json body = nlohmann::json::parse(result->body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body.contains("error")) << result->body;
    if (!body.is_object() || !body.contains("error")) return nlohmann::json();
    const nlohmann::json& error = body["error"];
    EXPECT_TRUE(error["message"].is_string());
    EXPECT_TRUE(error["type"].is_string());
    EXPECT_TRUE(error.contains("param"));
    EXPECT_EQ(error["code"], status);
    return error;
}

}  // namespace ovllm::test
