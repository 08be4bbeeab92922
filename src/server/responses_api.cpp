// POST /v1/responses (OpenAI's Responses API): one assistant message per response, as a whole
// response object or as the Responses stream events, each with its sequence_number:
//   response.created, response.in_progress, response.output_item.added,
//   response.content_part.added, response.output_text.delta (one per engine output),
//   response.output_text.done, response.content_part.done, response.output_item.done,
//   response.completed (its status completed, incomplete or cancelled, as vLLM sends it),
// or response.failed when the engine fails. Nothing is stored (`store: false`).
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "server/generation.hpp"
#include "server/openai_protocol.hpp"
#include "server/responses_request.hpp"
#include "server/server_context.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::server {

namespace {

// Everything the response object says besides what the engine produces.
struct ResponseJob {
    std::string id;       // resp_...
    std::string item_id;  // msg_..., the one output message
    std::string model;
    int64_t created_at = 0;
    SamplingParams params;        // as submitted: max_tokens resolved
    std::optional<int> logprobs;  // top_logprobs, when the output's logprobs were asked for
    json echo;                    // request fields repeated in the response object
    bool stream = false;
};

// What the engine produced so far.
struct Progress {
    std::string text;
    std::vector<PositionLogprobs> logprobs;    // when asked for, one per output token
    std::optional<std::string> finish_reason;  // the engine's: stop, length, abort
    std::string error;                         // set when the engine failed
};

std::string_view status_of(const Progress& progress, bool running) {
    if (running) return "in_progress";
    if (!progress.error.empty()) return "failed";
    if (progress.finish_reason == "length") return "incomplete";
    if (!progress.finish_reason || progress.finish_reason == "abort") return "cancelled";
    return "completed";
}

// An output_text part's (and a text event's) logprobs: [{token, logprob, bytes,
// top_logprobs: [{token, logprob, bytes}]}], chat's entries; empty when not asked for.
json text_logprobs(const ResponseJob& job, const std::vector<PositionLogprobs>& logprobs) {
    if (!job.logprobs) return json::array();
    return chat_logprobs_json(logprobs, *job.logprobs)["content"];
}

json output_text_part(const ResponseJob& job, const std::string& text,
                      const std::vector<PositionLogprobs>& logprobs) {
    return {{"type", "output_text"},
            {"text", text},
            {"annotations", json::array()},
            {"logprobs", text_logprobs(job, logprobs)}};
}

// The assistant message; its content is empty while it is only announced.
json message_item(const ResponseJob& job, std::string_view status, const Progress* progress) {
    json content = json::array();
    if (progress) content.push_back(output_text_part(job, progress->text, progress->logprobs));
    return {{"id", job.item_id},
            {"type", "message"},
            {"role", "assistant"},
            {"status", status},
            {"content", std::move(content)}};
}

json responses_usage_json(const Usage& usage) {
    return {{"input_tokens", usage.prompt_tokens},
            {"input_tokens_details", {{"cached_tokens", usage.cached_tokens}}},
            {"output_tokens", usage.completion_tokens},
            {"output_tokens_details", {{"reasoning_tokens", 0}}},
            {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

// The response object. `usage` and the message are absent while the response is running.
json response_object(const ResponseJob& job, std::string_view status, const Progress& progress,
                     const std::optional<Usage>& usage) {
    json output = json::array();
    if (status != "in_progress") {
        const std::string_view item_status = status == "completed" ? "completed" : "incomplete";
        output.push_back(message_item(job, item_status, &progress));
    }
    json response = {
        {"id", job.id},
        {"object", "response"},
        {"created_at", job.created_at},
        {"status", status},
        {"background", false},
        {"error", nullptr},
        {"incomplete_details", nullptr},
        {"max_output_tokens", job.params.max_tokens.value_or(0)},
        {"max_tool_calls", nullptr},
        {"model", job.model},
        {"output", std::move(output)},
        {"previous_response_id", nullptr},
        {"prompt", nullptr},
        {"reasoning", nullptr},
        {"service_tier", "auto"},
        {"store", false},  // nothing is kept: the response cannot be fetched or continued
        {"temperature", job.params.temperature},
        {"tools", json::array()},
        {"top_logprobs", job.logprobs.value_or(0)},
        {"top_p", job.params.top_p},
        {"truncation", "disabled"},
        {"usage", usage ? responses_usage_json(*usage) : json(nullptr)},
    };
    response.update(job.echo);
    if (status == "incomplete") response["incomplete_details"] = {{"reason", "max_output_tokens"}};
    if (status == "failed") {
        response["error"] = {{"code", "server_error"}, {"message", progress.error}};
    }
    return response;
}

// The engine request behind a response, read by an I/O thread and cancelled by another.
class ResponseSession {
  public:
    ResponseSession(ServerContext& context, ResponseJob job, GenerateRequest request)
        : job_(std::move(job)), generation_(context.engine, context.metrics, to_list(request)) {}

    void set_wake(std::function<void()> wake) {
        const std::lock_guard lock(mutex_);
        wake_ = std::move(wake);
        generation_.set_wake(wake_);
    }
    void cancel() {
        std::function<void()> wake;
        {
            const std::lock_guard lock(mutex_);
            generation_.abort();
            wake = wake_;
        }
        if (wake) wake();  // the aborted request is done now: let the reader see it
    }

  protected:
    // Takes the engine's next output without waiting; `delta` gets its new text and
    // `delta_logprobs` its tokens' logprobs (when asked for).
    Generation::State next(std::string& delta, std::vector<PositionLogprobs>& delta_logprobs) {
        Generation::Event event;
        const Generation::State state = generation_.next(std::chrono::milliseconds(0), event);
        if (state == Generation::State::error) progress_.error = generation_.error();
        if (state != Generation::State::output) return state;
        for (const CompletionOutput& output : event.output.outputs) {
            delta += output.text;
            delta_logprobs.insert(delta_logprobs.end(), output.logprobs.begin(),
                                  output.logprobs.end());
            if (output.finish_reason) progress_.finish_reason = output.finish_reason;
        }
        progress_.text += delta;
        progress_.logprobs.insert(progress_.logprobs.end(), delta_logprobs.begin(),
                                  delta_logprobs.end());
        return state;
    }
    json final_object() const {
        return response_object(job_, status_of(progress_, false), progress_, generation_.usage());
    }

    ResponseJob job_;
    Progress progress_;
    Generation generation_;
    std::mutex mutex_;

  private:
    static std::vector<GenerateRequest> to_list(GenerateRequest& request) {
        std::vector<GenerateRequest> list;
        list.push_back(std::move(request));
        return list;
    }
    std::function<void()> wake_;
};

// A non-streamed response: gathers the text, then answers with the whole response object.
class WholeResponse final : public http::ResponseSource, private ResponseSession {
  public:
    using ResponseSession::ResponseSession;
    void set_wake(std::function<void()> wake) override { ResponseSession::set_wake(wake); }
    void cancel() override { ResponseSession::cancel(); }
    std::optional<http::Response> poll() override;
};

std::optional<http::Response> WholeResponse::poll() {
    const std::lock_guard lock(mutex_);
    while (true) {
        std::string delta;
        std::vector<PositionLogprobs> logprobs;
        switch (next(delta, logprobs)) {
            case Generation::State::output:
                continue;
            case Generation::State::timeout:
                return std::nullopt;
            case Generation::State::done:
                return json_response(final_object());
            case Generation::State::error: {
                http::Response response =
                    json_response(error_json(internal_error(progress_.error)));
                response.status = 500;
                return response;
            }
        }
    }
}

// A streamed response: the Responses event sequence as server-sent events.
class StreamResponse final : public http::BodySource, private ResponseSession {
  public:
    using ResponseSession::ResponseSession;
    void set_wake(std::function<void()> wake) override { ResponseSession::set_wake(wake); }
    void cancel() override { ResponseSession::cancel(); }
    Poll poll(std::string& out) override;

  private:
    void event(std::string& out, std::string_view type, json fields);
    void open(std::string& out);
    void close(std::string& out);
    json part_location() const {
        return {{"item_id", job_.item_id}, {"output_index", 0}, {"content_index", 0}};
    }

    int sequence_number_ = 0;
    bool opened_ = false;
    bool finished_ = false;
};

void StreamResponse::event(std::string& out, std::string_view type, json fields) {
    fields["type"] = type;
    fields["sequence_number"] = sequence_number_++;
    out += fmt::format("event: {}\ndata: {}\n\n", type, dump_json(fields));
}

void StreamResponse::open(std::string& out) {
    opened_ = true;
    const json running = response_object(job_, "in_progress", progress_, std::nullopt);
    event(out, "response.created", {{"response", running}});
    event(out, "response.in_progress", {{"response", running}});
    event(out, "response.output_item.added",
          {{"output_index", 0}, {"item", message_item(job_, "in_progress", nullptr)}});
    json part = part_location();
    part["part"] = output_text_part(job_, "", {});
    event(out, "response.content_part.added", std::move(part));
}

void StreamResponse::close(std::string& out) {
    const json response = final_object();
    if (!progress_.error.empty()) {
        event(out, "response.failed", {{"response", response}});
        return;
    }
    json done = part_location();
    done["text"] = progress_.text;
    done["logprobs"] = text_logprobs(job_, progress_.logprobs);
    event(out, "response.output_text.done", std::move(done));
    json part = part_location();
    part["part"] = output_text_part(job_, progress_.text, progress_.logprobs);
    event(out, "response.content_part.done", std::move(part));
    event(out, "response.output_item.done", {{"output_index", 0}, {"item", response["output"][0]}});
    event(out, "response.completed", {{"response", response}});
}

http::BodySource::Poll StreamResponse::poll(std::string& out) {
    const std::lock_guard lock(mutex_);
    if (finished_) return Poll::end;
    if (!opened_) open(out);
    while (true) {
        std::string delta;
        std::vector<PositionLogprobs> logprobs;
        switch (next(delta, logprobs)) {
            case Generation::State::timeout:
                return Poll::wait;
            case Generation::State::output:
                if (!delta.empty() || !logprobs.empty()) {
                    json fields = part_location();
                    fields["delta"] = std::move(delta);
                    fields["logprobs"] = text_logprobs(job_, logprobs);
                    event(out, "response.output_text.delta", std::move(fields));
                }
                break;
            case Generation::State::error:
            case Generation::State::done:
                finished_ = true;
                close(out);
                return Poll::end;
        }
    }
}

void log_ignored(const std::string& id, const std::vector<std::string>& ignored) {
    if (ignored.empty()) return;
    std::string names;
    for (const std::string& name : ignored) names += (names.empty() ? "" : ", ") + name;
    OVLLM_WARN(
        "The following fields were present in request {} but ignored (they are not in vLLM's "
        "protocol): {}",
        id, names);
}

// The prompt's token ids and max_tokens checked against the context, in this API's names.
GenerateRequest engine_request(ServerContext& context, const std::string& engine_id,
                               ResponsesRequest& request) {
    request.chat.chat_template = context.options.chat_template;
    std::string prompt = context.engine.apply_chat_template(request.chat);
    // The template already holds any BOS, as on /v1/chat/completions.
    std::vector<int64_t> ids = context.engine.tokenize(prompt, /*add_special_tokens=*/false);
    if (ids.empty()) throw bad_request("The input renders to an empty prompt.", "input");
    const auto prompt_len = static_cast<int64_t>(ids.size());
    const int64_t limit = context.max_model_len;
    const std::optional<int> asked = request.params.max_tokens;
    if (prompt_len + asked.value_or(1) > limit) {
        throw bad_request(
            fmt::format("This model's maximum context length is {} tokens. However, the input "
                        "is {} tokens{}. Please reduce the length of the input{}.",
                        limit, prompt_len,
                        asked ? fmt::format(" and max_output_tokens is {}", *asked)
                              : std::string(" and at least one token must be generated"),
                        asked ? " or max_output_tokens" : ""),
            asked ? "max_output_tokens" : "input");
    }
    request.params.max_tokens = asked.value_or(static_cast<int>(limit - prompt_len));
    request.params.output_kind = OutputKind::delta;
    return {engine_id + "-0", std::move(ids), std::move(prompt), request.params};
}

}  // namespace

http::Result handle_responses(ServerContext& context, const http::Request& http_request) {
    ResponsesRequest request = parse_responses_request(parse_json_body(http_request.body),
                                                       context.options.default_sampling_params);
    ResponseJob job;
    job.model = context.resolve_model(request.model);
    context.check_overload();
    const std::string engine_id = context.make_id("resp");  // "resp-<32 hex digits>"
    const std::string hex = engine_id.substr(engine_id.find('-') + 1);
    job.id = request.request_id.empty() ? "resp_" + hex : request.request_id;
    job.item_id = "msg_" + hex;
    log_ignored(job.id, request.ignored_fields);
    GenerateRequest engine = engine_request(context, engine_id, request);
    job.params = engine.params;
    job.logprobs = request.logprobs;
    job.echo = std::move(request.echo);
    job.stream = request.stream;
    job.created_at = static_cast<int64_t>(std::time(nullptr));
    if (!context.options.disable_log_requests) {
        OVLLM_INFO(
            "Received request {}: {} prompt tokens, max_output_tokens={}, temperature={}, "
            "stream={}",
            job.id, engine.prompt_token_ids.size(), job.params.max_tokens.value_or(0),
            job.params.temperature, job.stream);
    }
    try {
        if (!job.stream) {
            return std::shared_ptr<http::ResponseSource>(
                std::make_shared<WholeResponse>(context, std::move(job), std::move(engine)));
        }
        http::Response response;
        response.content_type = "text/event-stream";
        response.headers.emplace_back("Cache-Control", "no-cache");
        response.stream =
            std::make_shared<StreamResponse>(context, std::move(job), std::move(engine));
        return response;
    } catch (const Error& error) {
        throw bad_request(error.what());  // the engine refused the request (submit threw)
    }
}

}  // namespace ovllm::server
