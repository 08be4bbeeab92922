#pragma once
// A server on a free loopback port over a FakeEngine, and helpers to talk to it.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fake_engine.hpp"
#include "openai_test_util.hpp"
#include "server/http_server.hpp"

namespace ovllm::server::test {

using nlohmann::json;

using ovllm::test::expect_error;
using ovllm::test::parse_sse;

class ServerTest : public ::testing::Test {
  protected:
    void start(ServerOptions options = {},
               std::chrono::microseconds tick = std::chrono::microseconds(200),
               int max_model_len = FakeEngine::kMaxModelLen) {
        engine_ = std::make_unique<FakeEngine>(tick, max_model_len);
        options.host = "127.0.0.1";
        options.port = 0;
        options.disable_log_requests = true;
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

}  // namespace ovllm::server::test
