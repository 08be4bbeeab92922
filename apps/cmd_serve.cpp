// `ovllm serve MODEL`: the OpenAI-compatible HTTP server over the engine, like `vllm serve`.
// The engine runs on its own thread (server/engine_service.hpp); SIGINT or SIGTERM drains
// the server (requests in progress finish within --shutdown-timeout), then joins the engine.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hub_models.hpp"
#include "model_argument.hpp"
#include "server/engine_service.hpp"
#include "server/http_server.hpp"
#include "server/kv_events_publisher.hpp"
#include "tokenizer/generation_config.hpp"
#include "util/cli_flags.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/log.hpp"

namespace ovllm::cli {
namespace {

struct ServeOptions {
    EngineConfig engine;
    config::FlagTracker tracker;
    ModelArgument model;
    std::string host = "127.0.0.1";
    int port = 8000;
    std::string api_key;
    std::vector<std::string> served_model_names;
    std::string chat_template;
    std::string generation_config = "auto";
    bool disable_log_requests = false;
    int max_waiting = 0;
    std::string kv_events_config;  // vLLM's JSON
    // HTTP layer; names follow uvicorn (which vLLM runs on) where it has one.
    int timeout_keep_alive = 5;
    int timeout_request = 30;
    int limit_concurrency = 0;  // 0 = as many connections as open files allow
    size_t max_header_bytes = 64 * 1024;
    size_t max_body_bytes = 64u << 20;
    double shutdown_timeout = 30;
    std::string allowed_origins = R"(["*"])";
    std::string allowed_methods = R"(["*"])";
    std::string allowed_headers = R"(["*"])";
    bool allow_credentials = false;
};

// vLLM takes --allowed-origins etc. as JSON lists; a comma-separated list works too.
std::vector<std::string> parse_list(const std::string& flag, const std::string& text) {
    const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    std::vector<std::string> items;
    if (parsed.is_array()) {
        for (const nlohmann::json& item : parsed) {
            if (!item.is_string())
                throw_error("--{}: expected a list of strings, got {}", flag, text);
            items.push_back(item.get<std::string>());
        }
        return items;
    }
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (!item.empty()) items.push_back(item);
    }
    return items;
}

// Like vLLM, raise the soft open-files limit to the hard one: every connection is a file.
size_t raise_open_files_limit() {
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 1024;
    const rlim_t wanted = std::min<rlim_t>(files.rlim_max, 65535);
    if (files.rlim_cur < wanted) {
        files.rlim_cur = wanted;
        if (setrlimit(RLIMIT_NOFILE, &files) != 0) getrlimit(RLIMIT_NOFILE, &files);
    }
    return files.rlim_cur;
}

server::http::Limits http_limits(const ServeOptions& o) {
    server::http::Limits limits;
    if (o.timeout_keep_alive < 1) throw_error("--timeout-keep-alive must be at least 1 second");
    if (o.timeout_request < 1) throw_error("--timeout-request must be at least 1 second");
    if (o.limit_concurrency < 0) throw_error("--limit-concurrency must be positive or 0");
    limits.idle_timeout = std::chrono::seconds(o.timeout_keep_alive);
    limits.request_timeout = std::chrono::seconds(o.timeout_request);
    // Keep room for the model's files, logs and the engine's own descriptors.
    const size_t files = raise_open_files_limit();
    const int by_files = static_cast<int>(files > 256 ? files - 128 : files / 2);
    limits.max_connections =
        o.limit_concurrency > 0 ? std::min(o.limit_concurrency, by_files) : by_files;
    if (o.limit_concurrency > by_files)
        OVLLM_WARN("--limit-concurrency {} lowered to {}: the open-files limit is {}",
                   o.limit_concurrency, by_files, files);
    limits.max_header_bytes = o.max_header_bytes;
    limits.max_body_bytes = o.max_body_bytes;
    return limits;
}

// --chat-template takes a file path or the template text itself, as vLLM does.
std::string read_chat_template(const std::string& value) {
    if (value.empty()) return {};
    std::error_code error;
    if (value.find('\n') == std::string::npos && std::filesystem::is_regular_file(value, error)) {
        try {
            return util::read_file(value);
        } catch (const Error& e) {
            throw_error("--chat-template: {}", e.what());
        }
    }
    return value;
}

std::string api_key_from_env() {
    for (const char* name : {"VLLM_API_KEY", "OVLLM_API_KEY"}) {
        const char* value = std::getenv(name);
        if (value && *value) return value;
    }
    return {};
}

// The generation_config.json defaults as request fields (vLLM's --generation-config auto).
nlohmann::json default_sampling_fields(const EngineConfig& engine) {
    nlohmann::json fields = nlohmann::json::object();
    std::error_code error;
    if (!std::filesystem::is_directory(engine.model, error)) return fields;
    const tokenizer::GenerationDefaults defaults =
        tokenizer::load_generation_defaults(engine.model);
    if (defaults.temperature) fields["temperature"] = *defaults.temperature;
    if (defaults.top_p) fields["top_p"] = *defaults.top_p;
    if (defaults.top_k) fields["top_k"] = *defaults.top_k;
    if (defaults.repetition_penalty) fields["repetition_penalty"] = *defaults.repetition_penalty;
    if (defaults.max_new_tokens) fields["max_tokens"] = *defaults.max_new_tokens;
    return fields;
}

// Blocks SIGINT and SIGTERM in this thread and every thread started after it, so that
// only the watcher below receives them (with sigwait) and can stop the server cleanly.
sigset_t block_stop_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    return signals;
}

int run_serve(ServeOptions& o) {
    o.engine.model = o.model.resolve(o.engine.model, "serve");
    if (!o.kv_events_config.empty())
        o.engine.kv_events_config = server::parse_kv_events_config(o.kv_events_config);
    config::log_notes(
        config::resolve_engine_config(o.engine, o.tracker, config::process_environment()));
    // Clients ask for a hub model by its hub name (as with vLLM), not its cache path.
    const std::string model_name = o.engine.model;
    resolve_hub_models(o.engine, o.tracker.hub);
    if (o.served_model_names.empty() && o.engine.model != model_name)
        o.served_model_names = {model_name};
    const sigset_t signals = block_stop_signals();

    server::ServerOptions options;
    options.host = o.host;
    options.port = o.port;
    options.api_key = o.api_key.empty() ? api_key_from_env() : o.api_key;
    options.served_model_names = o.served_model_names;
    options.max_waiting = o.max_waiting;
    options.disable_log_requests = o.disable_log_requests;
    options.limits = http_limits(o);
    options.cors.allowed_origins = parse_list("allowed-origins", o.allowed_origins);
    options.cors.allowed_methods = parse_list("allowed-methods", o.allowed_methods);
    options.cors.allowed_headers = parse_list("allowed-headers", o.allowed_headers);
    options.cors.allow_credentials = o.allow_credentials;
    if (o.generation_config == "auto") {
        options.default_sampling_params = default_sampling_fields(o.engine);
        if (!options.default_sampling_params.empty())
            OVLLM_INFO("Default sampling parameters from the model's generation config: {}",
                       options.default_sampling_params.dump());
    }
    const std::string chat_template = read_chat_template(o.chat_template);

    OVLLM_INFO("ovllm API server: model={} max_model_len={}", o.engine.model,
               o.engine.max_model_len);
    server::EngineService engine(o.engine, chat_template);
    server::OpenAIServer server(engine, options);
    if (options.host == "0.0.0.0" || options.host == "::")
        OVLLM_WARN("Binding {}: the server is reachable from other machines{}", options.host,
                   options.api_key.empty() ? " and has no --api-key" : "");
    const int port = server.bind();
    OVLLM_INFO("Starting ovllm API server on http://{}:{}", options.host, port);
    OVLLM_INFO(
        "Available routes are: /health, /version, /v1/models, /v1/completions, "
        "/v1/chat/completions, /v1/completions/render, /v1/chat/completions/render, /tokenize, "
        "/detokenize, /metrics, /reset_prefix_cache");

    std::atomic<bool> done{false};
    std::thread watcher([&] {
        int signal = 0;
        sigwait(&signals, &signal);
        if (done) return;
        // Graceful drain: no new connections, /health 503, requests in progress finish.
        OVLLM_INFO("Shutting down (signal {}): waiting up to {} s for requests in progress", signal,
                   o.shutdown_timeout);
        const auto timeout = std::chrono::milliseconds(
            static_cast<int64_t>(std::max(o.shutdown_timeout, 0.0) * 1000));
        const size_t left = server.drain(timeout);
        if (left > 0) {
            OVLLM_WARN("{} request(s) still in progress after --shutdown-timeout: aborting them",
                       left);
        }
        server.stop();
    });
    OVLLM_INFO("Application startup complete.");
    const bool served = server.listen();
    done = true;
    pthread_kill(watcher.native_handle(), SIGTERM);  // wakes the watcher if no signal came
    watcher.join();
    engine.stop();
    OVLLM_INFO("Shutdown complete.");
    return served ? 0 : 1;
}

}  // namespace

void add_http_flags(CLI::App& cmd, ServeOptions& o) {
    config::add_value_flag(cmd, "timeout-keep-alive", o.timeout_keep_alive,
                           "Close a connection when no byte moved for this many seconds "
                           "(idle keep-alive, stalled headers or body)");
    config::add_value_flag(cmd, "timeout-request", o.timeout_request,
                           "Close a connection that has not sent a whole request (headers and "
                           "body) within this many seconds");
    config::add_value_flag(cmd, "limit-concurrency", o.limit_concurrency,
                           "Most open connections; more are closed at once (0 = as the "
                           "open-files limit allows)");
    config::add_value_flag(cmd, "h11-max-incomplete-event-size", o.max_header_bytes,
                           "Most bytes of request line and headers (431 above)");
    config::add_value_flag(cmd, "max-request-body-bytes", o.max_body_bytes,
                           "Largest request body (413 above)");
    cmd.add_option("--shutdown-timeout,--shutdown_timeout,--timeout-graceful-shutdown",
                   o.shutdown_timeout,
                   "On SIGTERM/SIGINT, seconds to let requests in progress finish")
        ->capture_default_str();
    config::add_value_flag(cmd, "allowed-origins", o.allowed_origins, "CORS origins, a JSON list");
    config::add_value_flag(cmd, "allowed-methods", o.allowed_methods, "CORS methods, a JSON list");
    config::add_value_flag(cmd, "allowed-headers", o.allowed_headers, "CORS headers, a JSON list");
    config::add_bool_flag(cmd, "allow-credentials", o.allow_credentials, "CORS: allow credentials");
}

Command add_serve_command(CLI::App& app) {
    auto o = std::make_shared<ServeOptions>();
    CLI::App* cmd = app.add_subcommand("serve", "Serve a model with an OpenAI-compatible API");
    o->model.add_positional(*cmd, "Model folder or name");
    config::add_engine_flags(*cmd, o->engine, o->tracker);
    config::add_value_flag(*cmd, "host", o->host, "Address to bind");
    config::add_value_flag(*cmd, "port", o->port, "Port to bind (0 = any free port)");
    config::add_value_flag(*cmd, "api-key", o->api_key,
                           "Require `Authorization: Bearer KEY` (also VLLM_API_KEY)");
    cmd->add_option("--served-model-name,--served_model_name", o->served_model_names,
                    "Model name(s) clients use; default: the model path");
    config::add_value_flag(*cmd, "chat-template", o->chat_template,
                           "Chat template file or inline template text");
    config::add_value_flag(*cmd, "generation-config", o->generation_config,
                           "auto: the model's generation_config.json gives default sampling "
                           "parameters; vllm: ignore it")
        ->check(config::one_of({"auto", "vllm"}));
    config::add_bool_flag(*cmd, "disable-log-requests", o->disable_log_requests,
                          "Do not log each request");
    config::add_value_flag(*cmd, "kv-events-config", o->kv_events_config,
                           "KV cache events for KV-aware routers, as vLLM's JSON: "
                           "{\"enable_kv_cache_events\": true, \"publisher\": \"zmq\", "
                           "\"endpoint\": \"tcp://*:5557\", \"topic\": \"\"}");
    config::add_value_flag(*cmd, "max-waiting", o->max_waiting,
                           "Answer 503 when this many requests already wait (0 = no limit)");
    add_http_flags(*cmd, *o);
    return [o] { return run_serve(*o); };
}

}  // namespace ovllm::cli
