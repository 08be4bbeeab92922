// `ovllm serve MODEL`: the OpenAI-compatible HTTP server over the engine, like `vllm serve`.
// The engine runs on its own thread (server/engine_service.hpp); SIGINT or SIGTERM stops
// the listener, ends open streams and joins the engine thread.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hub_models.hpp"
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
    std::string model_tag;  // the positional MODEL
    std::string host = "127.0.0.1";
    int port = 8000;
    std::string api_key;
    std::vector<std::string> served_model_names;
    std::string chat_template;
    std::string generation_config = "auto";
    bool disable_log_requests = false;
    int max_waiting = 0;
    std::string kv_events_config;  // vLLM's JSON
};

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
    if (!o.model_tag.empty()) {
        if (o.tracker.was_set("model") && o.engine.model != o.model_tag)
            throw_error("give the model once: positional '{}' and --model '{}' differ", o.model_tag,
                        o.engine.model);
        o.engine.model = o.model_tag;
    }
    if (o.engine.model.empty()) throw_error("no model: run `ovllm serve MODEL`");
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
        "/detokenize, /metrics");

    std::thread watcher([&] {
        int signal = 0;
        sigwait(&signals, &signal);
        OVLLM_INFO("Shutting down (signal {})", signal);
        server.stop();
    });
    OVLLM_INFO("Application startup complete.");
    const bool served = server.listen();
    pthread_kill(watcher.native_handle(), SIGTERM);  // wakes the watcher if no signal came
    watcher.join();
    engine.stop();
    return served ? 0 : 1;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
    auto o = std::make_shared<ServeOptions>();
    CLI::App* cmd = app.add_subcommand("serve", "Serve a model with an OpenAI-compatible API");
    cmd->add_option("model_tag", o->model_tag, "Model folder or name (same as --model)");
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
    return [o] { return run_serve(*o); };
}

}  // namespace ovllm::cli
