#include "server/http_server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
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

void send_error(httplib::Response& response, const ApiError& error) {
    response.status = error.status();
    response.set_content(dump_json(error_json(error)), "application/json");
}

namespace {

using Handler = std::function<void(ServerContext&, const httplib::Request&, httplib::Response&)>;

// Every handler answers in the OpenAI error shape, whatever goes wrong inside it.
httplib::Server::Handler guarded(ServerContext& context, Handler handler) {
    return [&context, handler = std::move(handler)](const httplib::Request& request,
                                                    httplib::Response& response) {
        try {
            handler(context, request, response);
        } catch (const ApiError& error) {
            send_error(response, error);
        } catch (const Error& error) {
            send_error(response, bad_request(error.what()));
        } catch (const std::exception& error) {
            OVLLM_ERROR("{} {} failed: {}", request.method, request.path, error.what());
            send_error(response, internal_error(error.what()));
        } catch (...) {
            OVLLM_ERROR("{} {} failed with an unknown exception", request.method, request.path);
            send_error(response, internal_error("Internal server error."));
        }
    };
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

void handle_models(ServerContext& context, const httplib::Request&, httplib::Response& response) {
    const auto created = static_cast<int64_t>(std::time(nullptr));
    json data = json::array();
    for (const std::string& name : context.options.served_model_names) {
        data.push_back(model_card(context, name, created));
    }
    response.set_content(dump_json({{"object", "list"}, {"data", std::move(data)}}),
                         "application/json");
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
void handle_tokenize(ServerContext& context, const httplib::Request& request,
                     httplib::Response& response) {
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
    response.set_content(dump_json(result), "application/json");
}

// POST /detokenize: {tokens: [ids]} -> {prompt: text}.
void handle_detokenize(ServerContext& context, const httplib::Request& request,
                       httplib::Response& response) {
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
    response.set_content(dump_json({{"prompt", context.engine.detokenize(ids)}}),
                         "application/json");
}

void handle_metrics(ServerContext& context, const httplib::Request&, httplib::Response& response) {
    response.set_content(context.metrics.render(context.engine.stats()),
                         "text/plain; version=0.0.4; charset=utf-8");
}

bool authorized(const ServerContext& context, const httplib::Request& request) {
    if (context.options.api_key.empty()) return true;
    if (request.path.rfind("/v1", 0) != 0) return true;  // the key guards /v1/* only
    return request.get_header_value("Authorization") == "Bearer " + context.options.api_key;
}

}  // namespace

struct OpenAIServer::Impl {
    Impl(EngineClient& engine, ServerOptions options) : context(engine, std::move(options)) {}
    ServerContext context;
    httplib::Server http;
    std::thread listener;
    int port = -1;
    std::atomic<int> listen_socket{-1};  // seen while binding, to widen its backlog
};

OpenAIServer::OpenAIServer(EngineClient& engine, ServerOptions options)
    : impl_(std::make_unique<Impl>(engine, std::move(options))) {
    // A peer that closes mid-stream must fail the write, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    ServerContext& context = impl_->context;
    httplib::Server& http = impl_->http;
    const size_t threads = static_cast<size_t>(std::max(context.options.http_threads, 8));
    // httplib takes ownership of the queue it is handed and deletes it when it stops.
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(context.options.max_body_bytes);
    http.set_keep_alive_max_count(1000);
    // Streamed tokens are small writes; Nagle's algorithm would hold each one back.
    http.set_tcp_nodelay(true);
    http.set_socket_options([impl = impl_.get()](socket_t socket) {
        // SO_REUSEADDR only: the library's default also sets SO_REUSEPORT, which would let a
        // second server bind a port already in use and silently split its traffic.
        const int yes = 1;
        ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        impl->listen_socket = socket;
    });
    http.set_read_timeout(60);
    http.set_write_timeout(60);
    http.set_pre_routing_handler(
        [&context](const httplib::Request& request, httplib::Response& response) {
            if (authorized(context, request)) return httplib::Server::HandlerResponse::Unhandled;
            send_error(response, unauthorized());
            return httplib::Server::HandlerResponse::Handled;
        });
    // Unrouted paths and library-level failures (e.g. a body over the limit) get a JSON body.
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& request,
                                                                   httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const std::string message =
            response.status == 404
                ? fmt::format("Not found: {} {}", request.method, request.path)
                : fmt::format("The request failed with HTTP status {}.", response.status);
        send_error(response,
                   ApiError(response.status,
                            response.status == 404 ? "NotFoundError" : "BadRequestError", message));
        return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
            send_error(response, internal_error("Internal server error."));
        });
    http.Post("/v1/completions", guarded(context, handle_completions));
    http.Post("/v1/chat/completions", guarded(context, handle_chat_completions));
    http.Post("/v1/completions/render", guarded(context, handle_completions_render));
    http.Post("/v1/chat/completions/render", guarded(context, handle_chat_completions_render));
    http.Get("/v1/models", guarded(context, handle_models));
    http.Get("/health",
             [](const httplib::Request&, httplib::Response& response) { response.status = 200; });
    http.Get("/version", [](const httplib::Request&, httplib::Response& response) {
        response.set_content(dump_json({{"version", kVersion}}), "application/json");
    });
    http.Post("/tokenize", guarded(context, handle_tokenize));
    http.Post("/detokenize", guarded(context, handle_detokenize));
    http.Get("/metrics", guarded(context, handle_metrics));
}

OpenAIServer::~OpenAIServer() {
    stop();
    if (impl_->listener.joinable()) impl_->listener.join();
}

int OpenAIServer::bind() {
    const ServerOptions& options = impl_->context.options;
    if (options.port == 0) {
        impl_->port = impl_->http.bind_to_any_port(options.host);
    } else if (impl_->http.bind_to_port(options.host, options.port)) {
        impl_->port = options.port;
    } else {
        impl_->port = -1;
    }
    // The library listens with a backlog of 5; many clients connecting at once (a benchmark
    // opening hundreds of streams) would see dropped SYNs and second-long retries. Linux lets
    // listen() be called again to raise it.
    if (impl_->port >= 0 && impl_->listen_socket >= 0) {
        ::listen(impl_->listen_socket, SOMAXCONN);
    }
    if (impl_->port < 0) {
        throw_error("server: cannot bind {}:{} (address in use or not available)", options.host,
                    options.port);
    }
    OVLLM_INFO("Serving {} on http://{}:{}", options.served_model_names.front(), options.host,
               impl_->port);
    return impl_->port;
}

bool OpenAIServer::listen() {
    return impl_->http.listen_after_bind();
}

void OpenAIServer::stop() {
    impl_->http.stop();
}

int OpenAIServer::start() {
    const int port = bind();
    impl_->listener = std::thread([this] { listen(); });
    // listen_after_bind() starts accepting almost at once; wait so callers can connect.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!impl_->http.is_running() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return port;
}

const std::vector<std::string>& OpenAIServer::served_model_names() const {
    return impl_->context.options.served_model_names;
}

const ServerMetrics& OpenAIServer::metrics() const {
    return impl_->context.metrics;
}

}  // namespace ovllm::server
