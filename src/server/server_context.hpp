#pragma once
// State shared by the HTTP handlers of one server (internal to the server module).
#include <atomic>
#include <string>
#include <vector>

#include "server/engine_client.hpp"
#include "server/http_server.hpp"
#include "server/http_transport.hpp"
#include "server/metrics.hpp"
#include "server/openai_protocol.hpp"

namespace ovllm::server {

struct ServerContext {
    ServerContext(EngineClient& engine, ServerOptions options);

    EngineClient& engine;
    ServerOptions options;
    ModelInfo model;
    int max_model_len = 0;
    ServerMetrics metrics;
    std::atomic<bool> draining{false};  // shutting down: no new generation, /health is 503

    // The served name a request asked for (empty = the first); 404 for any other.
    const std::string& resolve_model(const std::string& requested) const;
    // 503 when the server drains or the engine already has options.max_waiting requests
    // waiting.
    void check_overload();
    // "<prefix>-<32 hex digits>", unique per server.
    std::string make_id(std::string_view prefix);

  private:
    std::atomic<uint64_t> id_counter_{0};
    uint64_t id_salt_ = 0;
};

http::Result handle_completions(ServerContext& context, const http::Request& request);
http::Result handle_chat_completions(ServerContext& context, const http::Request& request);
// OpenAI's Responses API (responses_api.cpp).
http::Result handle_responses(ServerContext& context, const http::Request& request);
// The prompts' token ids without generating (vLLM's render endpoints).
http::Result handle_completions_render(ServerContext& context, const http::Request& request);
http::Result handle_chat_completions_render(ServerContext& context, const http::Request& request);

// An OpenAI error body with its status, and a line in the server log naming the request.
http::Response error_response(const http::Request& request, const ApiError& error);
// A JSON body with status 200.
http::Response json_response(const json& body);

}  // namespace ovllm::server
