#include "server/http_server.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "ovllm/version.hpp"
#include "server/openai_protocol.hpp"
#include "server/server_context.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::server {

ServerContext::ServerContext(EngineClient& engine_client, ServerOptions server_options)
    : engine(engine_client),
      options(std::move(server_options)),
      model(engine.model_info()),
      max_model_len(options.max_model_len > 0 ? options.max_model_len : model.max_model_len),
      metrics(options.served_model_names.empty() ? model.name
                                                 : options.served_model_names.front()) {
    if (options.served_model_names.empty()) options.served_model_names.push_back(model.name);
    std::random_device seed;
    id_salt_ = (uint64_t(seed()) << 32) ^ seed();
}

const std::string& ServerContext::resolve_model(const std::string& requested) const {
    if (requested.empty()) return options.served_model_names.front();
    for (const std::string& name : options.served_model_names) {
        if (name == requested) return name;
    }
    throw model_not_found(requested);
}

void ServerContext::check_overload() {
    if (draining) throw service_unavailable("The server is shutting down.");
    if (options.max_waiting <= 0) return;
    const int waiting = engine.stats().num_waiting;
    if (waiting >= options.max_waiting) {
        throw service_unavailable(
            fmt::format("The server is overloaded: {} requests are "
                        "waiting (limit {}). Please retry later.",
                        waiting, options.max_waiting));
    }
}

std::string ServerContext::make_id(std::string_view prefix) {
    // A counter mixed with a per-server salt: unique, and not guessable across restarts.
    const uint64_t count = id_counter_.fetch_add(1);
    std::mt19937_64 mix(id_salt_ ^ (count * 0x9E3779B97F4A7C15ull));
    return fmt::format("{}-{:016x}{:016x}", prefix, mix(), count);
}

http::Response json_response(const json& body) {
    http::Response response;
    response.body = dump_json(body);
    return response;
}

http::Response error_response(const http::Request& request, const ApiError& error) {
    OVLLM_WARN("{} {} from {}: {} {}", request.method, request.path, request.peer, error.status(),
               error.message());
    http::Response response = json_response(error_json(error));
    response.status = error.status();
    return response;
}

namespace {

using Handler = std::function<http::Result(ServerContext&, const http::Request&)>;

// Every handler answers in the OpenAI error shape, whatever goes wrong inside it.
http::Result guarded(ServerContext& context, const Handler& handler, const http::Request& request) {
    try {
        return handler(context, request);
    } catch (const ApiError& error) {
        return error_response(request, error);
    } catch (const Error& error) {
        return error_response(request, bad_request(error.what()));
    } catch (const std::exception& error) {
        OVLLM_ERROR("{} {} failed: {}", request.method, request.path, error.what());
        return error_response(request, internal_error(error.what()));
    } catch (...) {
        OVLLM_ERROR("{} {} failed with an unknown exception", request.method, request.path);
        return error_response(request, internal_error("Internal server error."));
    }
}

json model_card(const ServerContext& context, const std::string& name, int64_t created) {
    const json permission = {{"id", fmt::format("modelperm-{}", name)},
                             {"object", "model_permission"},
                             {"created", created},
                             {"allow_create_engine", false},
                             {"allow_sampling", true},
                             {"allow_logprobs", true},
                             {"allow_search_indices", false},
                             {"allow_view", true},
                             {"allow_fine_tuning", false},
                             {"organization", "*"},
                             {"group", nullptr},
                             {"is_blocking", false}};
    return {{"id", name},
            {"object", "model"},
            {"created", created},
            {"owned_by", "ovllm"},
            {"root", context.model.name},
            {"parent", nullptr},
            {"max_model_len", context.max_model_len},
            {"permission", json::array({permission})}};
}

http::Result handle_models(ServerContext& context, const http::Request&) {
    const auto created = static_cast<int64_t>(std::time(nullptr));
    json data = json::array();
    for (const std::string& name : context.options.served_model_names) {
        data.push_back(model_card(context, name, created));
    }
    return json_response({{"object", "list"}, {"data", std::move(data)}});
}

std::optional<bool> optional_bool(const json& body, const char* name) {
    const auto it = body.find(name);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) {
        throw bad_request(fmt::format("{}: Input should be a valid boolean.", name), name);
    }
    return it->get<bool>();
}

void check_optional_model(ServerContext& context, const json& body) {
    const auto it = body.find("model");
    if (it == body.end() || it->is_null()) return;
    if (!it->is_string()) throw bad_request("model: Input should be a valid string.", "model");
    context.resolve_model(it->get<std::string>());
}

// POST /tokenize: {prompt, add_special_tokens = true} or a chat {messages, ...}.
http::Result handle_tokenize(ServerContext& context, const http::Request& request) {
    const json body = parse_json_body(request.body);
    check_optional_model(context, body);
    std::vector<int64_t> ids;
    if (body.contains("messages")) {
        json chat_body = body;
        chat_body.erase("model");
        ChatRequest chat = parse_chat_request(chat_body);
        chat.chat.chat_template = context.options.chat_template;
        const bool add_special = optional_bool(body, "add_special_tokens").value_or(false);
        ids = context.engine.tokenize(context.engine.apply_chat_template(chat.chat), add_special);
    } else {
        const auto it = body.find("prompt");
        if (it == body.end() || !it->is_string()) {
            throw bad_request("prompt: Input should be a valid string.", "prompt");
        }
        const bool add_special = optional_bool(body, "add_special_tokens").value_or(true);
        ids = context.engine.tokenize(it->get<std::string>(), add_special);
    }
    const json result = {{"count", ids.size()},
                         {"max_model_len", context.max_model_len},
                         {"tokens", ids},
                         {"token_strs", nullptr}};
    return json_response(result);
}

// POST /detokenize: {tokens: [ids]} -> {prompt: text}.
http::Result handle_detokenize(ServerContext& context, const http::Request& request) {
    const json body = parse_json_body(request.body);
    check_optional_model(context, body);
    const auto it = body.find("tokens");
    if (it == body.end() || !it->is_array()) {
        throw bad_request("tokens: Input should be a valid list of integers.", "tokens");
    }
    std::vector<int64_t> ids;
    for (const json& item : *it) {
        if (!item.is_number_integer()) {
            throw bad_request("tokens: Input should be a valid list of integers.", "tokens");
        }
        ids.push_back(item.get<int64_t>());
    }
    if (context.model.vocab_size > 0) check_token_ids(ids, context.model.vocab_size);
    return json_response({{"prompt", context.engine.detokenize(ids)}});
}

http::Result handle_metrics(ServerContext& context, const http::Request&) {
    http::Response response;
    response.body = context.metrics.render(context.engine.stats());
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return response;
}

http::Result handle_health(ServerContext& context, const http::Request&) {
    http::Response response;
    response.content_type.clear();
    if (context.draining) response.status = 503;  // load balancers: take this one out
    return response;
}

// POST /reset_prefix_cache (vLLM's route): 200 once the prefix cache is empty; 503 while
// running requests hold KV blocks, since their blocks cannot be forgotten under them.
http::Result handle_reset_prefix_cache(ServerContext& context, const http::Request&) {
    if (!context.engine.reset_prefix_cache()) {
        throw service_unavailable(
            "The prefix cache was not reset: running requests hold KV blocks. Retry when idle.");
    }
    http::Response response;
    response.content_type.clear();
    return response;
}

http::Result handle_version(ServerContext&, const http::Request&) {
    return json_response({{"version", kVersion}});
}

bool authorized(const ServerContext& context, const http::Request& request) {
    if (context.options.api_key.empty()) return true;
    if (request.path.rfind("/v1", 0) != 0) return true;  // the key guards /v1/* only
    return request.header("Authorization") == "Bearer " + context.options.api_key;
}

struct Route {
    const char* method;
    const char* path;
    Handler handler;
    bool slow;  // runs on a handler thread: it tokenizes or waits for the engine
};

const std::vector<Route>& routes() {
    static const std::vector<Route> table = {
        {"POST", "/v1/completions", handle_completions, true},
        {"POST", "/v1/chat/completions", handle_chat_completions, true},
        {"POST", "/v1/completions/render", handle_completions_render, true},
        {"POST", "/v1/chat/completions/render", handle_chat_completions_render, true},
        {"GET", "/v1/models", handle_models, false},
        {"GET", "/health", handle_health, false},
        {"GET", "/version", handle_version, false},
        {"POST", "/tokenize", handle_tokenize, true},
        {"POST", "/detokenize", handle_detokenize, true},
        {"GET", "/metrics", handle_metrics, false},
        {"POST", "/reset_prefix_cache", handle_reset_prefix_cache, true},
    };
    return table;
}

// HEAD is answered as GET without the body (the HTTP layer drops it).
bool method_matches(const Route& route, const std::string& method) {
    return method == route.method || (method == "HEAD" && std::string_view(route.method) == "GET");
}

const Route* find_route(const http::Request& request) {
    for (const Route& route : routes()) {
        if (request.path == route.path && method_matches(route, request.method)) return &route;
    }
    return nullptr;
}

http::Result dispatch(ServerContext& context, const http::Request& request) {
    if (auto preflight = cors_preflight(context.options.cors, request)) return *preflight;
    const Route* route = find_route(request);
    if (!route) {
        std::string allowed;
        for (const Route& candidate : routes()) {
            if (request.path != candidate.path) continue;
            allowed += (allowed.empty() ? "" : ", ") + std::string(candidate.method);
        }
        if (allowed.empty()) {
            return error_response(
                request, not_found(fmt::format("Not found: {} {}", request.method, request.path)));
        }
        http::Response response =
            error_response(request, ApiError(405, "MethodNotAllowed",
                                             fmt::format("Method Not Allowed: {} {} (allowed: {})",
                                                         request.method, request.path, allowed)));
        response.headers.emplace_back("Allow", allowed);
        return response;
    }
    if (!authorized(context, request)) return error_response(request, unauthorized());
    return guarded(context, route->handler, request);
}

}  // namespace

struct OpenAIServer::Impl {
    Impl(EngineClient& engine, ServerOptions options)
        : context(engine, std::move(options)), daemon(context.options.limits, make_routes()) {}

    http::Daemon::Routes make_routes() {
        http::Daemon::Routes table;
        table.handle = [this](const http::Request& request) { return dispatch(context, request); };
        table.slow = [](const http::Request& request) {
            const Route* route = find_route(request);
            return route && route->slow;
        };
        table.decorate = [this](const http::Request& request, http::Response& response) {
            add_cors_headers(context.options.cors, request, response);
        };
        table.reject_log = [](const http::Request& request, int status, std::string_view body) {
            OVLLM_WARN("{} {} from {}: {} {}", request.method, request.path, request.peer, status,
                       body);
        };
        return table;
    }

    ServerContext context;
    http::Daemon daemon;
    std::thread listener;
    int port = -1;
    std::mutex mutex;
    std::condition_variable stopped_changed;
    bool stopped = false;
};

OpenAIServer::OpenAIServer(EngineClient& engine, ServerOptions options)
    : impl_(std::make_unique<Impl>(engine, std::move(options))) {
    // A peer that closes mid-stream must fail the write, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
}

OpenAIServer::~OpenAIServer() {
    stop();
    if (impl_->listener.joinable()) impl_->listener.join();
    impl_->daemon.stop();
}

int OpenAIServer::bind() {
    const ServerOptions& options = impl_->context.options;
    impl_->port = impl_->daemon.bind(options.host, options.port);
    OVLLM_INFO("Serving {} on http://{}:{}", options.served_model_names.front(), options.host,
               impl_->port);
    return impl_->port;
}

bool OpenAIServer::listen() {
    try {
        impl_->daemon.start();
    } catch (const Error& error) {
        OVLLM_ERROR("{}", error.what());
        return false;
    }
    {
        std::unique_lock lock(impl_->mutex);
        impl_->stopped_changed.wait(lock, [this] { return impl_->stopped; });
    }
    impl_->daemon.stop();
    return true;
}

void OpenAIServer::stop() {
    {
        const std::lock_guard lock(impl_->mutex);
        impl_->stopped = true;
    }
    impl_->stopped_changed.notify_all();
}

size_t OpenAIServer::drain(std::chrono::milliseconds timeout) {
    impl_->context.draining = true;
    impl_->daemon.stop_accepting();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t busy = impl_->daemon.busy_connections();
    while (busy > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        busy = impl_->daemon.busy_connections();
    }
    return busy;
}

int OpenAIServer::start() {
    const int port = bind();
    impl_->daemon.start();
    impl_->listener = std::thread([this] {
        std::unique_lock lock(impl_->mutex);
        impl_->stopped_changed.wait(lock, [this] { return impl_->stopped; });
    });
    return port;
}

const std::vector<std::string>& OpenAIServer::served_model_names() const {
    return impl_->context.options.served_model_names;
}

const ServerMetrics& OpenAIServer::metrics() const {
    return impl_->context.metrics;
}

}  // namespace ovllm::server
