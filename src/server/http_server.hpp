#pragma once
// The OpenAI-compatible HTTP server (`ovllm serve`): /v1/completions, /v1/chat/completions,
// /v1/responses, /v1/models, /health, /version, /tokenize, /detokenize and /metrics over an
// EngineClient.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/chat_output.hpp"
#include "server/cors.hpp"
#include "server/engine_client.hpp"
#include "server/http_transport.hpp"
#include "server/metrics.hpp"

namespace ovllm::server {

struct ServerOptions {
    std::string host = "0.0.0.0";
    int port = 8000;      // 0 = any free port (see bind())
    std::string api_key;  // empty = no key; else `Authorization: Bearer <key>` on /v1/*
    std::vector<std::string> served_model_names;  // empty = the engine's model name
    int max_model_len = 0;                        // 0 = the engine's
    int max_waiting = 0;  // 503 when this many requests already wait; 0 = no limit
    bool disable_log_requests = false;
    std::string chat_template;  // template text overriding the model's; empty = model's
    ChatParserOptions parsers;  // reasoning and tool-call parsers of chat outputs
    // Request fields (temperature, top_p, top_k, repetition_penalty, max_tokens, ...) used
    // when a request leaves them out: the model's generation_config.json defaults.
    nlohmann::json default_sampling_params = nlohmann::json::object();
    http::Limits limits;  // connections, timeouts, sizes and threads of the HTTP layer
    CorsOptions cors;
};

class OpenAIServer {
  public:
    // Reads engine.model_info() once; the engine must outlive the server.
    OpenAIServer(EngineClient& engine, ServerOptions options);
    ~OpenAIServer();  // stop(), and waits for the listener
    OpenAIServer(const OpenAIServer&) = delete;
    OpenAIServer& operator=(const OpenAIServer&) = delete;

    // Binds host:port (port 0 picks a free one) and returns the bound port. Throws
    // ovllm::Error when the address cannot be bound.
    int bind();
    // Serves until stop(); call bind() first. Returns false if the listener failed.
    bool listen();
    // Thread-safe; unblocks listen(). Open streams end with an abort chunk and [DONE].
    void stop();
    // Graceful shutdown: stops accepting connections, answers /health with 503 and new
    // generation requests with 503, and waits up to `timeout` for the requests in progress
    // to finish. Returns how many were still in progress (stop() then aborts them).
    size_t drain(std::chrono::milliseconds timeout);
    // Binds and serves in a background thread; returns the bound port.
    int start();

    const std::vector<std::string>& served_model_names() const;
    const ServerMetrics& metrics() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ovllm::server
