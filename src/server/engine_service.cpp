#include "server/engine_service.hpp"

#include <future>

#include <nlohmann/json.hpp>

#include "engine/model_files.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::server {

struct EngineService::Submission {
    GenerateRequest request;
    std::shared_ptr<OutputStream> stream = std::make_shared<OutputStream>();
    std::promise<std::string> verdict;  // empty = accepted, else the engine's refusal
};

namespace {

ChatTemplate load_chat_template(const EngineConfig& config, const std::string& override_text) {
    ChatTemplate own =
        engine::load_chat_template(config.tokenizer.empty() ? config.model : config.tokenizer);
    if (override_text.empty()) return own;
    // The override still sees the model's special tokens (bos_token, eos_token, ...).
    return ChatTemplate::from_string(override_text, own.special_tokens(), "--chat-template");
}

}  // namespace

EngineService::EngineService(EngineConfig config, const std::string& chat_template)
    : engine_(std::make_unique<engine::LLMEngine>(std::move(config))),
      chat_template_(load_chat_template(engine_->config(), chat_template)) {
    const auto& cfg = engine_->config();
    model_info_.name = cfg.model;
    model_info_.max_model_len = engine_->max_model_len();
    model_info_.vocab_size = static_cast<int>(engine_->model_config().vocab_size);
    model_info_.eos_token_ids = engine_->eos_token_ids();
    start_kv_events(cfg);
    start_grammar_warm_up();
    publish_stats();
    thread_ = std::thread([this] { run(); });
}

void EngineService::start_grammar_warm_up() {
    // A server's first schema would otherwise pay for xgrammar's token tables and the masks
    // of the common JSON rules (about a second of CPU); the compiler starts them in the
    // background now, so the first request with a schema compiles in milliseconds.
    if (!engine_->tokenizer()) return;
    try {
        engine_->grammar_compiler();
    } catch (const std::exception& error) {
        // Requests with a schema will get this error; plain ones do not care.
        OVLLM_DEBUG("structured output is not available for this model: {}", error.what());
    }
}

void EngineService::start_kv_events(const EngineConfig& config) {
    const KVEventsConfig& events = config.kv_events_config;
    if (!events.enable_kv_cache_events || events.publisher == "null") return;
    if (!config.enable_prefix_caching) {
        // Without prefix caching no block is ever found again, so there is nothing to route
        // by; vLLM warns the same way.
        OVLLM_WARN(
            "KV cache events are on, but prefix caching is not enabled. Use "
            "--enable-prefix-caching to enable.");
        return;
    }
    kv_events_ = std::make_unique<KVEventsPublisher>(events);
    engine_->record_kv_events(true);
}

EngineService::~EngineService() {
    stop();
}

void EngineService::stop() {
    {
        std::lock_guard lock(inbox_mutex_);
        stopping_ = true;
    }
    inbox_ready_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<OutputStream> EngineService::submit(GenerateRequest request) {
    auto submission = std::make_shared<Submission>();
    submission->request = std::move(request);
    submission->request.params.output_kind = OutputKind::delta;
    std::future<std::string> verdict = submission->verdict.get_future();
    std::shared_ptr<OutputStream> stream = submission->stream;
    {
        std::lock_guard lock(inbox_mutex_);
        if (stopping_) throw_error("the engine is shutting down");
        inbox_.emplace_back(std::move(submission));
    }
    inbox_ready_.notify_one();
    const std::string refusal = verdict.get();
    if (!refusal.empty()) throw Error(refusal);
    return stream;
}

void EngineService::abort(const std::string& request_id) {
    {
        std::lock_guard lock(inbox_mutex_);
        if (stopping_) return;
        inbox_.emplace_back(request_id);
    }
    inbox_ready_.notify_one();
}

bool EngineService::reset_prefix_cache() {
    auto reply = std::make_shared<std::promise<bool>>();
    std::future<bool> done = reply->get_future();
    {
        std::lock_guard lock(inbox_mutex_);
        if (stopping_) return false;
        inbox_.emplace_back(std::move(reply));
    }
    inbox_ready_.notify_one();
    return done.get();
}

std::vector<int64_t> EngineService::tokenize(std::string_view text, bool add_special_tokens) {
    const tokenizer::Tokenizer* tok = engine_->tokenizer();
    if (!tok) throw_error("{}: the model has no tokenizer; send token ids", model_info_.name);
    return tok->encode(text, add_special_tokens);
}

std::string EngineService::detokenize(const std::vector<int64_t>& token_ids) {
    const tokenizer::Tokenizer* tok = engine_->tokenizer();
    if (!tok) throw_error("{}: the model has no tokenizer", model_info_.name);
    return tok->decode(token_ids, false);
}

std::string EngineService::apply_chat_template(const ChatTemplateRequest& request) {
    ChatRenderOptions options;
    options.add_generation_prompt = request.add_generation_prompt;
    options.continue_final_message = request.continue_final_message;
    options.tools = request.tools;
    if (request.chat_template_kwargs.is_object())
        options.chat_template_kwargs =
            nlohmann::ordered_json::parse(request.chat_template_kwargs.dump());
    const nlohmann::ordered_json& messages = request.messages;
    if (!request.chat_template.empty()) {
        return ChatTemplate::from_string(request.chat_template, chat_template_.special_tokens(),
                                         "chat_template")
            .render(messages, options);
    }
    return chat_template_.render(messages, options);
}

EngineSnapshot EngineService::stats() {
    std::lock_guard lock(stats_mutex_);
    return stats_;
}

ModelInfo EngineService::model_info() {
    return model_info_;
}

void EngineService::run() {
    while (true) {
        {
            std::unique_lock lock(inbox_mutex_);
            inbox_ready_.wait(lock, [this] {
                return stopping_ || !inbox_.empty() || engine_->has_unfinished_requests();
            });
            if (stopping_) break;
        }
        drain_inbox();
        if (engine_->has_unfinished_requests()) step_once();
    }
    // Shutdown: refuse what is queued and end every open stream.
    std::deque<InboxItem> left;
    {
        std::lock_guard lock(inbox_mutex_);
        left.swap(inbox_);
    }
    for (InboxItem& item : left) {
        if (auto* submission = std::get_if<std::shared_ptr<Submission>>(&item))
            (*submission)->verdict.set_value("the engine is shutting down");
        if (auto* reset = std::get_if<ResetReply>(&item)) (*reset)->set_value(false);
    }
    close_all("the engine is shutting down");
}

void EngineService::close_all(const std::string& why) {
    for (auto& [id, stream] : streams_) {
        engine_->abort_request(id);
        stream->close(why);
    }
    streams_.clear();
    publish_stats();
}

void EngineService::drain_inbox() {
    std::deque<InboxItem> items;
    {
        std::lock_guard lock(inbox_mutex_);
        items.swap(inbox_);
    }
    for (InboxItem& item : items) {
        if (auto* submission = std::get_if<std::shared_ptr<Submission>>(&item)) {
            add(**submission);
            continue;
        }
        if (auto* reset = std::get_if<ResetReply>(&item)) {
            const bool done = engine_->reset_prefix_cache();
            if (kv_events_) kv_events_->publish(engine_->take_kv_events());
            (*reset)->set_value(done);
            continue;
        }
        const std::string& id = std::get<std::string>(item);
        const auto found = streams_.find(id);
        if (found == streams_.end()) continue;  // finished or unknown
        engine_->abort_request(id);
        found->second->close();
        streams_.erase(found);
    }
    if (!items.empty()) publish_stats();
}

void EngineService::add(Submission& submission) {
    GenerateRequest& request = submission.request;
    try {
        engine_->add_request(request.request_id,
                             engine::PromptInput{std::move(request.prompt_text),
                                                 std::move(request.prompt_token_ids)},
                             request.params);
    } catch (const std::exception& error) {
        submission.stream->close(error.what());
        submission.verdict.set_value(error.what()[0] ? error.what() : "request refused");
        return;
    }
    streams_.emplace(request.request_id, submission.stream);
    submission.verdict.set_value({});
}

void EngineService::step_once() {
    std::vector<RequestOutput> outputs;
    try {
        outputs = engine_->step();
        if (kv_events_) kv_events_->publish(engine_->take_kv_events());
    } catch (const std::exception& error) {
        // A failed step leaves no request in a known state: end them all with the error.
        OVLLM_ERROR("engine step failed: {}", error.what());
        close_all(error.what());
        return;
    }
    // Published before the outputs go out: a client that reads /metrics as soon as its
    // response is complete must not see its finished request still running.
    publish_stats();
    for (RequestOutput& output : outputs) {
        const auto found = streams_.find(output.request_id);
        if (found == streams_.end()) continue;
        const bool finished = output.finished;
        found->second->push(std::move(output));
        if (finished) {
            found->second->close();
            streams_.erase(found);
        }
    }
}

void EngineService::publish_stats() {
    const engine::EngineStats s = engine_->stats();
    std::lock_guard lock(stats_mutex_);
    stats_.num_running = static_cast<int>(s.num_running);
    stats_.num_waiting = static_cast<int>(s.num_waiting);
    stats_.kv_cache_usage = s.kv_cache_usage;
    stats_.prefix_cache_queries = s.prefix_cache_queries;
    stats_.prefix_cache_hits = s.prefix_cache_hits;
    stats_.num_preemptions = s.num_preemptions;
    stats_.spec_num_drafts = s.spec_num_drafts;
    stats_.spec_draft_tokens = s.spec_draft_tokens;
    stats_.spec_accepted_tokens = s.spec_accepted_tokens;
}

}  // namespace ovllm::server
