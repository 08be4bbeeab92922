// POST /v1/completions and /v1/chat/completions: prompt preparation, then either one JSON
// response or a server-sent-event stream fed from the engine's output streams.
#include <chrono>
#include <ctime>
#include <memory>

#include <fmt/format.h>

#include "server/generation.hpp"
#include "server/openai_protocol.hpp"
#include "server/server_context.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::server {

namespace {

// Everything a response needs besides the engine outputs.
struct Job {
    bool chat = false;
    std::string id;
    std::string model;
    int64_t created = 0;
    int n = 1;
    std::vector<GenerateRequest> requests;
    std::vector<std::string> echo;  // per prompt, text to put before the completion
    bool stream = false;
    bool include_usage = false;
    bool continuous_usage_stats = false;
    std::optional<int> logprobs;  // completions: top-N; chat: top_logprobs when enabled
};

// One choice's progress: what was sent or gathered so far.
struct ChoiceState {
    std::string text;  // non-streaming: the whole text
    std::vector<PositionLogprobs> logprobs;
    size_t text_bytes = 0;  // bytes of text produced so far, echo included (text_offset base)
    bool started = false;
    std::optional<std::string> finish_reason;
    json stop_reason;
};

json stop_reason_json(const CompletionOutput& output) {
    if (output.stop_reason_text) return *output.stop_reason_text;
    if (output.stop_reason_token) return *output.stop_reason_token;
    return nullptr;
}

// Turns one delta output into the update sent for its choice, advancing `state`.
ChoiceUpdate make_update(const Job& job, size_t prompt, ChoiceState& state,
                         const CompletionOutput& output) {
    ChoiceUpdate update;
    update.index = static_cast<int>(prompt) * job.n + output.index;
    if (!state.started && !job.chat) update.text = job.echo[prompt];
    update.text += output.text;
    if (job.logprobs) {
        update.logprobs = job.chat
                              ? chat_logprobs_json(output.logprobs, *job.logprobs)
                              : completion_logprobs_json(
                                    output.logprobs,
                                    state.text_bytes + (update.text.size() - output.text.size()));
    }
    state.started = true;
    state.text_bytes += update.text.size();
    if (output.finish_reason) {
        update.finish_reason = output.finish_reason;
        update.stop_reason = stop_reason_json(output);
        state.finish_reason = output.finish_reason;
        state.stop_reason = update.stop_reason;
    }
    return update;
}

GenerateRequest make_request(ServerContext& context, std::string request_id,
                             std::vector<int64_t> ids, std::string text, SamplingParams params) {
    if (ids.empty()) throw bad_request("Prompt cannot be empty.", "prompt");
    params.max_tokens =
        resolve_max_tokens(params.max_tokens, static_cast<int>(ids.size()), context.max_model_len);
    params.output_kind = OutputKind::delta;
    return {std::move(request_id), std::move(ids), std::move(text), std::move(params)};
}

void log_job(const ServerContext& context, const Job& job) {
    if (context.options.disable_log_requests) return;
    size_t prompt_tokens = 0;
    for (const GenerateRequest& request : job.requests) {
        prompt_tokens += request.prompt_token_ids.size();
    }
    const SamplingParams& params = job.requests.front().params;
    OVLLM_INFO(
        "Received request {}: {} prompt(s), {} prompt tokens, n={}, max_tokens={}, "
        "temperature={}, stream={}",
        job.id, job.requests.size(), prompt_tokens, params.n, params.max_tokens.value_or(0),
        params.temperature, job.stream);
}

Job completion_job(ServerContext& context, const json& body) {
    CompletionRequest request = parse_completion_request(body);
    Job job;
    job.model = context.resolve_model(request.model);
    context.check_overload();
    job.id = context.make_id("cmpl");
    job.n = request.params.n;
    job.stream = request.stream;
    job.include_usage = request.include_usage;
    job.continuous_usage_stats = request.continuous_usage_stats;
    job.logprobs = request.logprobs;
    for (size_t i = 0; i < request.prompts.size(); ++i) {
        PromptInput& prompt = request.prompts[i];
        std::vector<int64_t> ids = prompt.is_tokens ? std::move(prompt.token_ids)
                                                    : context.engine.tokenize(prompt.text, true);
        if (prompt.is_tokens && context.model.vocab_size > 0) {
            check_token_ids(ids, context.model.vocab_size);
        }
        std::string echo;
        if (request.echo) echo = prompt.is_tokens ? context.engine.detokenize(ids) : prompt.text;
        job.echo.push_back(std::move(echo));
        job.requests.push_back(make_request(context, fmt::format("{}-{}", job.id, i),
                                            std::move(ids), std::move(prompt.text),
                                            request.params));
    }
    return job;
}

Job chat_job(ServerContext& context, const json& body) {
    ChatRequest request = parse_chat_request(body);
    Job job;
    job.chat = true;
    job.model = context.resolve_model(request.model);
    context.check_overload();
    job.id = context.make_id("chatcmpl");
    job.n = request.params.n;
    job.stream = request.stream;
    job.include_usage = request.include_usage;
    job.continuous_usage_stats = request.continuous_usage_stats;
    if (request.logprobs) job.logprobs = request.top_logprobs;
    request.chat.chat_template = context.options.chat_template;
    std::string prompt = context.engine.apply_chat_template(request.chat);
    // The template already holds any BOS; adding special tokens again would double it.
    std::vector<int64_t> ids = context.engine.tokenize(prompt, false);
    job.echo.emplace_back();
    job.requests.push_back(
        make_request(context, job.id + "-0", std::move(ids), std::move(prompt), request.params));
    return job;
}

std::string_view object_name(const Job& job, bool chunk) {
    if (!job.chat) return "text_completion";
    return chunk ? "chat.completion.chunk" : "chat.completion";
}

void respond_whole(ServerContext& context, Job& job, httplib::Response& response) {
    Generation generation(context.engine, context.metrics, std::move(job.requests));
    std::vector<ChoiceState> choices(generation.num_prompts() * static_cast<size_t>(job.n));
    Generation::Event event;
    while (true) {
        const auto state = generation.next(std::chrono::seconds(1), event);
        if (state == Generation::State::done) break;
        if (state == Generation::State::error) throw internal_error(generation.error());
        if (state != Generation::State::output) continue;
        for (const CompletionOutput& output : event.output.outputs) {
            ChoiceState& choice = choices[event.prompt * size_t(job.n) + size_t(output.index)];
            const ChoiceUpdate update = make_update(job, event.prompt, choice, output);
            choice.text += update.text;
            choice.logprobs.insert(choice.logprobs.end(), output.logprobs.begin(),
                                   output.logprobs.end());
        }
    }
    json list = json::array();
    for (size_t i = 0; i < choices.size(); ++i) {
        ChoiceState& choice = choices[i];
        ChoiceUpdate update;
        update.index = static_cast<int>(i);
        update.text = std::move(choice.text);
        if (job.logprobs) {
            const size_t echo_bytes = job.echo[i / size_t(job.n)].size();
            update.logprobs = job.chat ? chat_logprobs_json(choice.logprobs, *job.logprobs)
                                       : completion_logprobs_json(choice.logprobs, echo_bytes);
        }
        update.finish_reason = choice.finish_reason.value_or("abort");
        update.stop_reason = choice.stop_reason;
        list.push_back(job.chat ? chat_message_choice_json(update)
                                : completion_choice_json(update));
    }
    const json body = response_json(job.id, object_name(job, false), job.created, job.model,
                                    std::move(list), generation.usage());
    response.set_content(dump_json(body), "application/json");
}

// A streaming response in progress; owned by the content provider.
struct StreamSession {
    Job job;
    std::unique_ptr<Generation> generation;
    std::vector<ChoiceState> choices;
    bool opened = false;
    bool finished = false;
};

bool write_event(httplib::DataSink& sink, const std::string& payload) {
    const std::string frame = "data: " + payload + "\n\n";
    return sink.write(frame.data(), frame.size());
}

bool write_chunk(StreamSession& session, httplib::DataSink& sink, json choices,
                 std::optional<Usage> usage) {
    const Job& job = session.job;
    return write_event(sink, dump_json(response_json(job.id, object_name(job, true), job.created,
                                                     job.model, std::move(choices), usage)));
}

// Chat streams open with one chunk per choice carrying the assistant role.
bool open_stream(StreamSession& session, httplib::DataSink& sink) {
    session.opened = true;
    if (!session.job.chat) return true;
    for (size_t i = 0; i < session.choices.size(); ++i) {
        ChoiceUpdate update;
        update.index = static_cast<int>(i);
        const json choice = chat_delta_choice_json(update, /*with_role=*/true);
        if (!write_chunk(session, sink, json::array({choice}), std::nullopt)) return false;
    }
    return true;
}

bool write_outputs(StreamSession& session, httplib::DataSink& sink,
                   const Generation::Event& event) {
    const Job& job = session.job;
    for (const CompletionOutput& output : event.output.outputs) {
        const size_t index = event.prompt * size_t(job.n) + size_t(output.index);
        if (index >= session.choices.size()) continue;
        ChoiceState& state = session.choices[index];
        if (output.text.empty() && output.token_ids.empty() && !output.finish_reason &&
            (state.started || job.echo[event.prompt].empty())) {
            continue;
        }
        const ChoiceUpdate update = make_update(job, event.prompt, state, output);
        json choice =
            job.chat ? chat_delta_choice_json(update, false) : completion_choice_json(update);
        std::optional<Usage> usage;
        if (job.continuous_usage_stats) usage = session.generation->usage();
        if (!write_chunk(session, sink, json::array({std::move(choice)}), usage)) return false;
    }
    return true;
}

bool close_stream(StreamSession& session, httplib::DataSink& sink) {
    const Job& job = session.job;
    // A choice the engine ended without a reason (e.g. aborted) still gets a final chunk.
    for (size_t i = 0; i < session.choices.size(); ++i) {
        if (session.choices[i].finish_reason) continue;
        ChoiceUpdate update;
        update.index = static_cast<int>(i);
        update.finish_reason = "abort";
        json choice =
            job.chat ? chat_delta_choice_json(update, false) : completion_choice_json(update);
        if (!write_chunk(session, sink, json::array({std::move(choice)}), std::nullopt)) {
            return false;
        }
    }
    if (job.include_usage &&
        !write_chunk(session, sink, json::array(), session.generation->usage())) {
        return false;
    }
    return write_event(sink, "[DONE]");
}

// One step of the stream: called by the HTTP library until it calls sink.done(). Returning
// false drops the connection; the releaser then aborts the engine requests.
bool provide(StreamSession& session, httplib::DataSink& sink) {
    if (session.finished) {
        sink.done();
        return true;
    }
    if (!session.opened && !open_stream(session, sink)) return false;
    Generation::Event event;
    const auto state = session.generation->next(std::chrono::milliseconds(100), event);
    switch (state) {
        case Generation::State::timeout:
            return sink.is_writable();
        case Generation::State::output:
            return write_outputs(session, sink, event);
        case Generation::State::error: {
            session.finished = true;
            const json error = error_json(internal_error(session.generation->error()));
            return write_event(sink, dump_json(error)) && write_event(sink, "[DONE]");
        }
        case Generation::State::done:
            session.finished = true;
            return close_stream(session, sink);
    }
    return false;
}

void respond_stream(ServerContext& context, Job& job, httplib::Response& response) {
    auto session = std::make_shared<StreamSession>();
    session->generation =
        std::make_unique<Generation>(context.engine, context.metrics, std::move(job.requests));
    session->choices.resize(session->generation->num_prompts() * static_cast<size_t>(job.n));
    session->job = std::move(job);
    response.set_header("Cache-Control", "no-cache");
    response.set_chunked_content_provider(
        "text/event-stream",
        [session](size_t, httplib::DataSink& sink) {
            try {
                return provide(*session, sink);
            } catch (const std::exception& error) {
                OVLLM_ERROR("Stream {} failed: {}", session->job.id, error.what());
                return false;
            }
        },
        [session](bool success) {
            if (success) return;
            OVLLM_INFO("Aborted request {}: the client went away.", session->job.id);
            session->generation->abort();
        });
}

void respond(ServerContext& context, Job job, httplib::Response& response) {
    job.created = static_cast<int64_t>(std::time(nullptr));
    log_job(context, job);
    try {
        if (job.stream) {
            respond_stream(context, job, response);
        } else {
            respond_whole(context, job, response);
        }
    } catch (const Error& error) {
        // The engine refused the request (submit threw).
        throw bad_request(error.what());
    }
}

// The request body with the server's default sampling fields filled where it has none.
json with_defaults(const ServerContext& context, json body) {
    for (const auto& [key, value] : context.options.default_sampling_params.items()) {
        if (!body.contains(key) || body.at(key).is_null()) body[key] = value;
    }
    return body;
}

// The token ids a job's prompts become, one {"token_ids": [...]} per prompt: what
// vllm-router's kv_aware policy asks a replica for (POST /v1/completions/render and
// /v1/chat/completions/render) to find the replica holding the longest cached prefix.
void respond_render(const Job& job, httplib::Response& response) {
    json list = json::array();
    for (const GenerateRequest& request : job.requests) {
        list.push_back({{"token_ids", request.prompt_token_ids}});
    }
    response.set_content(dump_json(list), "application/json");
}

}  // namespace

void handle_completions_render(ServerContext& context, const httplib::Request& request,
                               httplib::Response& response) {
    respond_render(completion_job(context, with_defaults(context, parse_json_body(request.body))),
                   response);
}

void handle_chat_completions_render(ServerContext& context, const httplib::Request& request,
                                    httplib::Response& response) {
    respond_render(chat_job(context, with_defaults(context, parse_json_body(request.body))),
                   response);
}

void handle_completions(ServerContext& context, const httplib::Request& request,
                        httplib::Response& response) {
    respond(context, completion_job(context, with_defaults(context, parse_json_body(request.body))),
            response);
}

void handle_chat_completions(ServerContext& context, const httplib::Request& request,
                             httplib::Response& response) {
    respond(context, chat_job(context, with_defaults(context, parse_json_body(request.body))),
            response);
}

}  // namespace ovllm::server
