#pragma once
// A server on a free loopback port over a FakeEngine, and helpers to talk to it.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fake_engine.hpp"
#include "server/http_server.hpp"

namespace ovllm::server::test {

using nlohmann::json;

// The JSON payloads of an SSE body; sets `done` when the stream ended with [DONE].
inline std::vector<json> parse_sse(const std::string& body, bool* done = nullptr) {
    std::vector<json> events;
    if (done) *done = false;
    size_t position = 0;
    while (position < body.size()) {
        const size_t end = body.find("\n\n", position);
        if (end == std::string::npos) break;
        const std::string frame = body.substr(position, end - position);
        position = end + 2;
        if (frame.rfind("data: ", 0) != 0) continue;
        const std::string payload = frame.substr(6);
        if (payload == "[DONE]") {
            if (done) *done = true;
            continue;
        }
        events.push_back(json::parse(payload));
    }
    return events;
}

class ServerTest : public ::testing::Test {
  protected:
    void start(ServerOptions options = {},
               std::chrono::microseconds tick = std::chrono::microseconds(200)) {
        engine_ = std::make_unique<FakeEngine>(tick);
        options.host = "127.0.0.1";
        options.port = 0;
        options.disable_log_requests = true;
        options.http_threads = 128;
        server_ = std::make_unique<OpenAIServer>(*engine_, options);
        port_ = server_->start();
    }
    void SetUp() override { start(); }
    void TearDown() override {
        server_.reset();
        engine_.reset();
    }

    httplib::Client client() const {
        httplib::Client client("127.0.0.1", port_);
        client.set_read_timeout(30);
        client.set_tcp_nodelay(true);
        return client;
    }
    httplib::Result post(const std::string& path, const std::string& body,
                         const httplib::Headers& headers = {}) const {
        return client().Post(path.c_str(), headers, body, "application/json");
    }
    httplib::Result post(const std::string& path, const json& body,
                         const httplib::Headers& headers = {}) const {
        return post(path, body.dump(), headers);
    }
    httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) const {
        return client().Get(path.c_str(), headers);
    }

    std::unique_ptr<FakeEngine> engine_;
    std::unique_ptr<OpenAIServer> server_;
    int port_ = 0;
};

// Asserts an OpenAI error body with the given status and returns its "error" object.
inline json expect_error(const httplib::Result& result, int status) {
    EXPECT_TRUE(result) << "no response";
    if (!result) return json();
    EXPECT_EQ(result->status, status) << result->body;
    const json body = json::parse(result->body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body.contains("error")) << result->body;
    if (!body.is_object() || !body.contains("error")) return json();
    const json& error = body["error"];
    EXPECT_TRUE(error["message"].is_string());
    EXPECT_TRUE(error["type"].is_string());
    EXPECT_TRUE(error.contains("param"));
    EXPECT_EQ(error["code"], status);
    return error;
}

}  // namespace ovllm::server::test
