#pragma once
// Cross-origin resource sharing as vLLM configures it (FastAPI's CORSMiddleware with
// --allowed-origins, --allowed-methods, --allowed-headers, --allow-credentials), so browser
// clients can call the API from another origin.
#include <optional>
#include <string>
#include <vector>

#include "server/http_transport.hpp"

namespace ovllm::server {

struct CorsOptions {
    std::vector<std::string> allowed_origins{"*"};
    std::vector<std::string> allowed_methods{"*"};
    std::vector<std::string> allowed_headers{"*"};
    bool allow_credentials = false;
};

// A preflight request (OPTIONS with Origin and Access-Control-Request-Method): its answer,
// 200 or 400 "Disallowed CORS ...". Other requests: nullopt.
std::optional<http::Response> cors_preflight(const CorsOptions& options,
                                             const http::Request& request);
// Adds Access-Control-Allow-Origin (and Vary, credentials) to a response to an allowed
// Origin; no change when the request has no Origin header.
void add_cors_headers(const CorsOptions& options, const http::Request& request,
                      http::Response& response);

}  // namespace ovllm::server
