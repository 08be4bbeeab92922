#include "server/cors.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace ovllm::server {

namespace {

// The methods "*" stands for, as Starlette lists them.
constexpr const char* kAllMethods = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";
// Headers a browser may always send (CORS safelisted request headers).
const std::vector<std::string> kSafelistedHeaders = {"accept", "accept-language",
                                                     "content-language", "content-type"};

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

bool allows_all(const std::vector<std::string>& list) {
    return contains(list, "*");
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// "X-A, x-b" -> {"x-a", "x-b"}.
std::vector<std::string> header_list(const std::string& value) {
    std::vector<std::string> names;
    std::stringstream in(value);
    std::string name;
    while (std::getline(in, name, ',')) {
        const size_t first = name.find_first_not_of(" \t");
        const size_t last = name.find_last_not_of(" \t");
        if (first != std::string::npos)
            names.push_back(lower(name.substr(first, last - first + 1)));
    }
    return names;
}

bool origin_allowed(const CorsOptions& options, const std::string& origin) {
    return allows_all(options.allowed_origins) || contains(options.allowed_origins, origin);
}

// The Allow-Origin value: "*" when any origin is allowed without credentials, else the
// origin itself (and then the answer varies by Origin).
void set_allow_origin(const CorsOptions& options, const std::string& origin,
                      http::Response& response) {
    if (allows_all(options.allowed_origins) && !options.allow_credentials) {
        response.headers.emplace_back("Access-Control-Allow-Origin", "*");
    } else {
        response.headers.emplace_back("Access-Control-Allow-Origin", origin);
        response.headers.emplace_back("Vary", "Origin");
    }
    if (options.allow_credentials) {
        response.headers.emplace_back("Access-Control-Allow-Credentials", "true");
    }
}

}  // namespace

std::optional<http::Response> cors_preflight(const CorsOptions& options,
                                             const http::Request& request) {
    if (request.method != "OPTIONS") return std::nullopt;
    const std::string origin = request.header("Origin");
    const std::string method = request.header("Access-Control-Request-Method");
    if (origin.empty() || method.empty()) return std::nullopt;
    const std::string requested_headers = request.header("Access-Control-Request-Headers");

    std::vector<std::string> failures;
    if (!origin_allowed(options, origin)) failures.push_back("origin");
    if (!allows_all(options.allowed_methods) && !contains(options.allowed_methods, method)) {
        failures.push_back("method");
    }
    if (!allows_all(options.allowed_headers)) {
        std::vector<std::string> allowed;
        for (const std::string& name : options.allowed_headers) allowed.push_back(lower(name));
        for (const std::string& name : header_list(requested_headers)) {
            if (!contains(allowed, name) && !contains(kSafelistedHeaders, name)) {
                failures.push_back("headers");
                break;
            }
        }
    }
    http::Response response;
    response.content_type = "text/plain; charset=utf-8";
    if (!failures.empty()) {
        response.status = 400;
        response.body = "Disallowed CORS " + join(failures);
        return response;
    }
    response.body = "OK";
    set_allow_origin(options, origin, response);
    response.headers.emplace_back(
        "Access-Control-Allow-Methods",
        allows_all(options.allowed_methods) ? kAllMethods : join(options.allowed_methods));
    response.headers.emplace_back("Access-Control-Max-Age", "600");
    const std::string allow_headers =
        allows_all(options.allowed_headers) ? requested_headers : join(options.allowed_headers);
    if (!allow_headers.empty()) {
        response.headers.emplace_back("Access-Control-Allow-Headers", allow_headers);
    }
    return response;
}

void add_cors_headers(const CorsOptions& options, const http::Request& request,
                      http::Response& response) {
    const std::string origin = request.header("Origin");
    if (origin.empty() || !origin_allowed(options, origin)) return;
    for (const auto& [name, value] : response.headers) {
        if (name == "Access-Control-Allow-Origin") return;  // a preflight answer has them
    }
    set_allow_origin(options, origin, response);
}

}  // namespace ovllm::server
