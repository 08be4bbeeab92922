#pragma once
// State shared by the HTTP handlers of one server (internal to the server module).
#include <atomic>
#include <string>
#include <vector>

#include <httplib.h>

#include "server/engine_client.hpp"
#include "server/http_server.hpp"
#include "server/metrics.hpp"

namespace ovllm::server {

struct ServerContext {
    ServerContext(EngineClient& engine, ServerOptions options);

    EngineClient& engine;
    ServerOptions options;
    ModelInfo model;
    int max_model_len = 0;
    ServerMetrics metrics;

    // The served name a request asked for (empty = the first); 404 for any other.
    const std::string& resolve_model(const std::string& requested) const;
    // 503 when the engine already has options.max_waiting requests waiting.
    void check_overload();
    // "<prefix>-<32 hex digits>", unique per server.
    std::string make_id(std::string_view prefix);

  private:
    std::atomic<uint64_t> id_counter_{0};
    uint64_t id_salt_ = 0;
};

void handle_completions(ServerContext& context, const httplib::Request& request,
                        httplib::Response& response);
void handle_chat_completions(ServerContext& context, const httplib::Request& request,
                             httplib::Response& response);
// The prompts' token ids without generating (vLLM's render endpoints).
void handle_completions_render(ServerContext& context, const httplib::Request& request,
                               httplib::Response& response);
void handle_chat_completions_render(ServerContext& context, const httplib::Request& request,
                                    httplib::Response& response);

// Writes an OpenAI error body with its status.
void send_error(httplib::Response& response, const ApiError& error);

}  // namespace ovllm::server
