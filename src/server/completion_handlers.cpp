// POST /v1/completions and /v1/chat/completions: prompt preparation, then either one JSON
// response or a server-sent-event stream fed from the engine's output streams.
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>

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
    std::string id;         // the response's id
    std::string engine_id;  // unique base of the engine request ids
    std::string model;
    int64_t created = 0;
    int n = 1;
    std::vector<GenerateRequest> requests;
    std::vector<std::string> echo;  // per prompt, text to put before the completion
    bool stream = false;
    bool include_usage = false;
    bool continuous_usage_stats = false;
    std::optional<int> logprobs;  // completions: top-N; chat: top_logprobs when enabled
    bool return_token_ids = false;
    std::vector<std::vector<int64_t>> prompt_token_ids;  // per prompt, when return_token_ids
    bool prompt_logprobs = false;                        // not streamed (refused with stream)
    ChatOutputPlan plan;  // chat: what the reasoning and tool-call parsers read
};

// One choice's progress: what was sent or gathered so far.
struct ChoiceState {
    std::string text;                // non-streaming: the whole text
    std::vector<int64_t> token_ids;  // non-streaming, with return_token_ids
    std::vector<PositionLogprobs> logprobs;
    size_t text_bytes = 0;  // bytes of text produced so far, echo included (text_offset base)
    bool started = false;
    std::optional<std::string> finish_reason;
    json stop_reason;
    std::unique_ptr<ChatOutputStream> parser;  // streamed chat with job.plan.active()
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
    if (job.return_token_ids) {
        update.token_ids = output.token_ids;
        // Completions carry the prompt's ids in each choice's first chunk (chat: top level).
        if (!state.started && !job.chat) update.prompt_token_ids = job.prompt_token_ids[prompt];
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

GenerateRequest make_request(ServerContext& context, Job& job, const RequestExtras& extras,
                             std::vector<int64_t> ids, std::string text, SamplingParams params) {
    if (ids.empty()) throw bad_request("Prompt cannot be empty.", "prompt");
    if (extras.truncate_prompt_tokens) {
        // vLLM keeps the prompt's last tokens; -1 means as many as the context holds.
        const int keep = *extras.truncate_prompt_tokens < 0 ? context.max_model_len
                                                            : *extras.truncate_prompt_tokens;
        if (ids.size() > static_cast<size_t>(keep)) ids.erase(ids.begin(), ids.end() - keep);
    }
    if (job.return_token_ids) job.prompt_token_ids.push_back(ids);
    std::string request_id = fmt::format("{}-{}", job.engine_id, job.requests.size());
    params.max_tokens =
        resolve_max_tokens(params.max_tokens, static_cast<int>(ids.size()), context.max_model_len);
    params.output_kind = OutputKind::delta;
    return {std::move(request_id), std::move(ids), std::move(text), std::move(params)};
}

// The response id: vLLM's prefix and the client's request_id, or a generated one.
void name_job(ServerContext& context, Job& job, std::string_view prefix,
              const RequestExtras& extras) {
    job.engine_id = context.make_id(prefix);
    job.id =
        extras.request_id.empty() ? job.engine_id : fmt::format("{}-{}", prefix, extras.request_id);
    job.return_token_ids = extras.return_token_ids;
    if (!extras.ignored_fields.empty()) {
        std::string names;
        for (const std::string& name : extras.ignored_fields) {
            names += (names.empty() ? "" : ", ") + name;
        }
        OVLLM_WARN(
            "The following fields were present in request {} but ignored (they are "
            "not in vLLM's protocol): {}",
            job.id, names);
    }
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
    name_job(context, job, "cmpl", request.extras);
    job.n = request.params.n;
    job.stream = request.stream;
    job.include_usage = request.include_usage;
    job.continuous_usage_stats = request.continuous_usage_stats;
    job.logprobs = request.logprobs;
    job.prompt_logprobs = request.params.prompt_logprobs.has_value();
    for (size_t i = 0; i < request.prompts.size(); ++i) {
        CompletionPrompt& prompt = request.prompts[i];
        std::vector<int64_t> ids =
            prompt.is_tokens
                ? std::move(prompt.token_ids)
                : context.engine.tokenize(prompt.text, request.extras.add_special_tokens);
        if (prompt.is_tokens && context.model.vocab_size > 0) {
            check_token_ids(ids, context.model.vocab_size);
        }
        std::string echo;
        if (request.echo) echo = prompt.is_tokens ? context.engine.detokenize(ids) : prompt.text;
        job.echo.push_back(std::move(echo));
        job.requests.push_back(make_request(context, job, request.extras, std::move(ids),
                                            std::move(prompt.text), request.params));
    }
    return job;
}

Job chat_job(ServerContext& context, const json& body, std::string_view raw_body) {
    ChatRequest request = parse_chat_request(body);
    keep_client_order(request.chat, raw_body);
    Job job;
    job.chat = true;
    job.model = context.resolve_model(request.model);
    context.check_overload();
    name_job(context, job, "chatcmpl", request.extras);
    job.n = request.params.n;
    job.stream = request.stream;
    job.include_usage = request.include_usage;
    job.continuous_usage_stats = request.continuous_usage_stats;
    if (request.logprobs) job.logprobs = request.top_logprobs;
    job.prompt_logprobs = request.params.prompt_logprobs.has_value();
    job.plan = plan_chat_output(context.options.parsers, request.tool_fields, request.params);
    request.chat.chat_template = context.options.chat_template;
    std::string prompt = context.engine.apply_chat_template(request.chat);
    job.plan.prompt_opened_think = prompt_opens_think(prompt);
    // The template already holds any BOS; add_special_tokens (default false) would double it.
    std::vector<int64_t> ids = context.engine.tokenize(prompt, request.extras.add_special_tokens);
    job.echo.emplace_back();
    job.requests.push_back(make_request(context, job, request.extras, std::move(ids),
                                        std::move(prompt), request.params));
    return job;
}

std::string_view object_name(const Job& job, bool chunk) {
    if (!job.chat) return "text_completion";
    return chunk ? "chat.completion.chunk" : "chat.completion";
}

// A response being generated: the job, its engine requests and each choice's progress.
// Polled by an I/O thread and cancelled by another, hence the mutex.
struct Session {
    Session(ServerContext& context, Job&& taken)
        : job(std::move(taken)),
          generation(context.engine, context.metrics, std::move(job.requests)),
          choices(generation.num_prompts() * static_cast<size_t>(job.n)) {}

    void set_wake(std::function<void()> wake) {
        const std::lock_guard lock(mutex);
        wake_ = wake;
        generation.set_wake(wake_);
    }
    void cancel() {
        std::function<void()> wake;
        {
            const std::lock_guard lock(mutex);
            generation.abort();
            wake = wake_;
        }
        if (wake) wake();  // the aborted requests are done now: let the reader see it
    }

    Job job;
    Generation generation;
    std::vector<ChoiceState> choices;
    std::vector<json> prompt_logprobs;  // per prompt, from its first output, when asked
    std::mutex mutex;

  private:
    std::function<void()> wake_;
};

// A non-streamed response: gathers every output, then answers once all are done.
class WholeResponse : public http::ResponseSource {
  public:
    WholeResponse(ServerContext& context, Job&& job) : session_(context, std::move(job)) {}
    void set_wake(std::function<void()> wake) override { session_.set_wake(std::move(wake)); }
    void cancel() override { session_.cancel(); }
    std::optional<http::Response> poll() override;

  private:
    http::Response body() const;
    // The prompt_logprobs of choice `choice`'s prompt; null if the engine sent none.
    json prompt_logprobs_of(size_t choice) const {
        const size_t prompt = choice / size_t(session_.job.n);
        return prompt < session_.prompt_logprobs.size() ? session_.prompt_logprobs[prompt]
                                                        : json(nullptr);
    }
    Session session_;
};

std::optional<http::Response> WholeResponse::poll() {
    const std::lock_guard lock(session_.mutex);
    const Job& job = session_.job;
    Generation::Event event;
    while (true) {
        const auto state = session_.generation.next(std::chrono::milliseconds(0), event);
        if (state == Generation::State::done) return body();
        if (state == Generation::State::error) {
            http::Response response =
                json_response(error_json(internal_error(session_.generation.error())));
            response.status = 500;
            return response;
        }
        if (state == Generation::State::timeout) return std::nullopt;
        if (job.prompt_logprobs && !event.output.prompt_token_ids.empty()) {
            session_.prompt_logprobs.resize(session_.generation.num_prompts());
            session_.prompt_logprobs[event.prompt] =
                prompt_logprobs_json(event.output.prompt_logprobs);
        }
        for (const CompletionOutput& output : event.output.outputs) {
            const size_t index = event.prompt * size_t(job.n) + size_t(output.index);
            if (index >= session_.choices.size()) continue;
            ChoiceState& choice = session_.choices[index];
            const ChoiceUpdate update = make_update(job, event.prompt, choice, output);
            choice.text += update.text;
            choice.token_ids.insert(choice.token_ids.end(), output.token_ids.begin(),
                                    output.token_ids.end());
            choice.logprobs.insert(choice.logprobs.end(), output.logprobs.begin(),
                                   output.logprobs.end());
        }
    }
}

http::Response WholeResponse::body() const {
    const Job& job = session_.job;
    json list = json::array();
    for (size_t i = 0; i < session_.choices.size(); ++i) {
        const ChoiceState& choice = session_.choices[i];
        ChoiceUpdate update;
        update.index = static_cast<int>(i);
        update.text = choice.text;
        if (job.logprobs) {
            const size_t echo_bytes = job.echo[i / size_t(job.n)].size();
            update.logprobs = job.chat ? chat_logprobs_json(choice.logprobs, *job.logprobs)
                                       : completion_logprobs_json(choice.logprobs, echo_bytes);
        }
        update.finish_reason = choice.finish_reason.value_or("abort");
        update.stop_reason = choice.stop_reason;
        if (job.chat && job.plan.active()) {
            update.parts = parse_chat_output(job.plan, choice.text);
            update.finish_reason =
                chat_finish_reason(*update.finish_reason, !update.parts->tool_calls.empty());
        }
        if (job.return_token_ids) {
            update.token_ids = choice.token_ids;
            if (!job.chat) update.prompt_token_ids = job.prompt_token_ids[i / size_t(job.n)];
        }
        json choice_json =
            job.chat ? chat_message_choice_json(update) : completion_choice_json(update);
        if (job.prompt_logprobs && !job.chat)
            choice_json["prompt_logprobs"] = prompt_logprobs_of(i);
        list.push_back(std::move(choice_json));
    }
    json body = response_json(job.id, object_name(job, false), job.created, job.model,
                              std::move(list), session_.generation.usage());
    if (job.chat && job.return_token_ids) body["prompt_token_ids"] = job.prompt_token_ids.front();
    if (job.chat && job.prompt_logprobs) body["prompt_logprobs"] = prompt_logprobs_of(0);
    return json_response(body);
}

void write_event(std::string& out, const std::string& payload) {
    out += "data: ";
    out += payload;
    out += "\n\n";
}

void write_chunk(const Job& job, std::string& out, json choices, std::optional<Usage> usage) {
    write_event(out, dump_json(response_json(job.id, object_name(job, true), job.created, job.model,
                                             std::move(choices), usage)));
}

// A streamed response: server-sent events, one chunk per output and choice.
class StreamResponse : public http::BodySource {
  public:
    StreamResponse(ServerContext& context, Job&& job) : session_(context, std::move(job)) {}
    void set_wake(std::function<void()> wake) override { session_.set_wake(std::move(wake)); }
    void cancel() override { session_.cancel(); }
    Poll poll(std::string& out) override;

  private:
    void open(std::string& out);
    void write_outputs(std::string& out, const Generation::Event& event);
    void write_parsed(std::string& out, ChoiceState& state, ChoiceUpdate update,
                      std::optional<Usage> usage);
    void close(std::string& out);

    Session session_;
    bool opened_ = false;
    bool finished_ = false;
};

// Chat streams open with one chunk per choice carrying the assistant role.
void StreamResponse::open(std::string& out) {
    opened_ = true;
    if (!session_.job.chat) return;
    for (size_t i = 0; i < session_.choices.size(); ++i) {
        ChoiceUpdate update;
        update.index = static_cast<int>(i);
        const json choice = chat_delta_choice_json(update, /*with_role=*/true);
        json chunk =
            response_json(session_.job.id, object_name(session_.job, true), session_.job.created,
                          session_.job.model, json::array({choice}), std::nullopt);
        if (i == 0 && session_.job.return_token_ids) {
            chunk["prompt_token_ids"] = session_.job.prompt_token_ids.front();
        }
        write_event(out, dump_json(chunk));
    }
}

void StreamResponse::write_outputs(std::string& out, const Generation::Event& event) {
    const Job& job = session_.job;
    for (const CompletionOutput& output : event.output.outputs) {
        const size_t index = event.prompt * size_t(job.n) + size_t(output.index);
        if (index >= session_.choices.size()) continue;
        ChoiceState& state = session_.choices[index];
        if (output.text.empty() && output.token_ids.empty() && !output.finish_reason &&
            (state.started || job.echo[event.prompt].empty())) {
            continue;
        }
        ChoiceUpdate update = make_update(job, event.prompt, state, output);
        std::optional<Usage> usage;
        if (job.continuous_usage_stats) usage = session_.generation.usage();
        if (job.chat && job.plan.active()) {
            write_parsed(out, state, std::move(update), usage);
            continue;
        }
        json choice =
            job.chat ? chat_delta_choice_json(update, false) : completion_choice_json(update);
        write_chunk(job, out, json::array({std::move(choice)}), usage);
    }
}

// A chat delta through the parsers: reasoning, content and each tool-call delta item in a
// chunk of its own (a call's id and name before its arguments), the finish reason last.
void StreamResponse::write_parsed(std::string& out, ChoiceState& state, ChoiceUpdate update,
                                  std::optional<Usage> usage) {
    const Job& job = session_.job;
    if (!state.parser) state.parser = std::make_unique<ChatOutputStream>(job.plan);
    ChatParts parts = state.parser->feed(update.text);
    if (update.finish_reason) {
        ChatParts last = state.parser->finish();
        if (last.reasoning) parts.reasoning = parts.reasoning.value_or("") + *last.reasoning;
        if (last.content) parts.content = parts.content.value_or("") + *last.content;
        for (json& item : last.tool_calls) parts.tool_calls.push_back(std::move(item));
        update.finish_reason =
            chat_finish_reason(*update.finish_reason, state.parser->called_tools());
        state.finish_reason = update.finish_reason;
    }
    std::vector<ChatParts> pieces(1);
    pieces[0].reasoning = std::move(parts.reasoning);
    pieces[0].content = std::move(parts.content);
    for (json& item : parts.tool_calls) {
        if (!pieces.back().tool_calls.empty()) pieces.emplace_back();
        pieces.back().tool_calls.push_back(std::move(item));
    }
    const bool has_extras = !update.logprobs.is_null() || !update.token_ids.is_null();
    for (size_t i = 0; i < pieces.size(); ++i) {
        ChoiceUpdate piece;
        piece.index = update.index;
        const bool last = i + 1 == pieces.size();
        if (i == 0) {
            piece.logprobs = update.logprobs;
            piece.token_ids = update.token_ids;
        }
        if (last) {
            piece.finish_reason = update.finish_reason;
            piece.stop_reason = update.stop_reason;
        }
        const bool empty =
            !pieces[i].reasoning && !pieces[i].content && pieces[i].tool_calls.empty();
        // Text the parsers hold back (a partial tag) sends nothing yet.
        if (empty && !piece.finish_reason && !(i == 0 && has_extras)) continue;
        piece.parts = std::move(pieces[i]);
        write_chunk(job, out, json::array({chat_delta_choice_json(piece, false)}),
                    last ? usage : std::nullopt);
    }
}

void StreamResponse::close(std::string& out) {
    const Job& job = session_.job;
    // A choice the engine ended without a reason (aborted) still gets a final chunk.
    for (size_t i = 0; i < session_.choices.size(); ++i) {
        if (session_.choices[i].finish_reason) continue;
        ChoiceUpdate update;
        update.index = static_cast<int>(i);
        update.finish_reason = "abort";
        json choice =
            job.chat ? chat_delta_choice_json(update, false) : completion_choice_json(update);
        write_chunk(job, out, json::array({std::move(choice)}), std::nullopt);
    }
    if (job.include_usage) write_chunk(job, out, json::array(), session_.generation.usage());
    write_event(out, "[DONE]");
}

http::BodySource::Poll StreamResponse::poll(std::string& out) {
    const std::lock_guard lock(session_.mutex);
    if (finished_) return Poll::end;
    if (!opened_) open(out);
    Generation::Event event;
    while (true) {
        switch (session_.generation.next(std::chrono::milliseconds(0), event)) {
            case Generation::State::timeout:
                return Poll::wait;
            case Generation::State::output:
                write_outputs(out, event);
                break;
            case Generation::State::error:
                finished_ = true;
                write_event(out,
                            dump_json(error_json(internal_error(session_.generation.error()))));
                write_event(out, "[DONE]");
                return Poll::end;
            case Generation::State::done:
                finished_ = true;
                close(out);
                return Poll::end;
        }
    }
}

http::Result respond(ServerContext& context, Job job) {
    job.created = static_cast<int64_t>(std::time(nullptr));
    log_job(context, job);
    try {
        if (!job.stream) {
            return std::shared_ptr<http::ResponseSource>(
                std::make_shared<WholeResponse>(context, std::move(job)));
        }
        http::Response response;
        response.content_type = "text/event-stream";
        response.headers.emplace_back("Cache-Control", "no-cache");
        response.stream = std::make_shared<StreamResponse>(context, std::move(job));
        return response;
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
http::Response respond_render(const Job& job) {
    json list = json::array();
    for (const GenerateRequest& request : job.requests) {
        list.push_back({{"token_ids", request.prompt_token_ids}});
    }
    return json_response(list);
}

}  // namespace

http::Result handle_completions_render(ServerContext& context, const http::Request& request) {
    return respond_render(
        completion_job(context, with_defaults(context, parse_json_body(request.body))));
}

http::Result handle_chat_completions_render(ServerContext& context, const http::Request& request) {
    return respond_render(
        chat_job(context, with_defaults(context, parse_json_body(request.body)), request.body));
}

http::Result handle_completions(ServerContext& context, const http::Request& request) {
    return respond(context,
                   completion_job(context, with_defaults(context, parse_json_body(request.body))));
}

http::Result handle_chat_completions(ServerContext& context, const http::Request& request) {
    return respond(context, chat_job(context, with_defaults(context, parse_json_body(request.body)),
                                     request.body));
}

}  // namespace ovllm::server
