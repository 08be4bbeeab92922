#include "fake_engine.hpp"

#include <algorithm>

#include "letter_tokenizer.hpp"
#include "util/error.hpp"

namespace ovllm::server::test {

FakeEngine::FakeEngine(std::chrono::microseconds tick)
    : tick_(tick),
      tokenizer_(ovllm::test::letter_tokenizer()),
      processor_(&tokenizer_, {kEos}, kMaxModelLen) {
    thread_ = std::thread([this] { loop(); });
}

FakeEngine::~FakeEngine() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

std::shared_ptr<OutputStream> FakeEngine::submit(GenerateRequest request) {
    if (request.prompt_text == "REFUSE") throw_error("fake engine: refused by request");
    auto stream = std::make_shared<OutputStream>();
    const std::lock_guard lock(mutex_);
    submitted_.push_back(request);
    const std::string id = request.request_id;
    const bool fail = request.prompt_text == "FAIL_STREAM";
    SamplingParams params = std::move(request.params);
    params.max_tokens = params.max_tokens.value_or(16);
    active_[id] = Active{
        processor_.make_request({id, std::move(request.prompt_text),
                                 std::move(request.prompt_token_ids), std::move(params), 0.0}),
        stream, fail};
    peak_active = std::max(peak_active.load(), active_.size());
    changed_.notify_all();
    return stream;
}

void FakeEngine::abort(const std::string& request_id) {
    const std::lock_guard lock(mutex_);
    aborted_.insert(request_id);
    const auto it = active_.find(request_id);
    if (it == active_.end()) return;
    it->second.stream->close();
    active_.erase(it);
    changed_.notify_all();
}

std::vector<int64_t> FakeEngine::tokenize(std::string_view text, bool add_special_tokens) {
    std::vector<int64_t> ids;
    if (add_special_tokens) ids.push_back(kBos);
    for (const unsigned char c : text) ids.push_back(int64_t(c) + 3);
    return ids;
}

std::string FakeEngine::detokenize(const std::vector<int64_t>& token_ids) {
    std::string text;
    for (const int64_t id : token_ids) {
        if (id >= 3 && id < 259) text += static_cast<char>(id - 3);
    }
    return text;
}

std::string FakeEngine::apply_chat_template(const ChatTemplateRequest& request) {
    std::string text;
    {
        const std::lock_guard lock(mutex_);
        last_chat_ = request;
        chats_.push_back(request);
    }
    for (const auto& message : request.messages) {
        const std::string role = message["role"].get<std::string>();
        if (message["content"] == "BAD_TEMPLATE") {
            throw_error("chat template: cannot render 'BAD_TEMPLATE'");
        }
        text += "<" + role + ">";
        if (message["content"].is_string()) text += message["content"].get<std::string>();
        text += "\n";
    }
    if (request.add_generation_prompt) text += "<assistant>";
    return text;
}

EngineSnapshot FakeEngine::stats() {
    EngineSnapshot stats;
    const std::lock_guard lock(mutex_);
    stats.num_running = static_cast<int>(active_.size());
    stats.num_waiting = forced_waiting.load();
    stats.kv_cache_usage = 0.25;
    // Counters that move: 10 prompt tokens queried and 4 hit per request submitted.
    stats.prefix_cache_queries = 100 + 10 * submitted_.size();
    stats.prefix_cache_hits = 40 + 4 * submitted_.size();
    stats.num_preemptions = 2;
    return stats;
}

bool FakeEngine::reset_prefix_cache() {
    const std::lock_guard lock(mutex_);
    return active_.empty();
}

ModelInfo FakeEngine::model_info() {
    return {"fake-model", kMaxModelLen, kVocabSize, {kEos}};
}

std::vector<GenerateRequest> FakeEngine::submitted() const {
    const std::lock_guard lock(mutex_);
    return submitted_;
}

std::set<std::string> FakeEngine::aborted() const {
    const std::lock_guard lock(mutex_);
    return aborted_;
}

std::vector<ChatTemplateRequest> FakeEngine::chats() const {
    const std::lock_guard lock(mutex_);
    return chats_;
}

ChatTemplateRequest FakeEngine::last_chat() const {
    const std::lock_guard lock(mutex_);
    return last_chat_;
}

size_t FakeEngine::active() const {
    const std::lock_guard lock(mutex_);
    return active_.size();
}

bool FakeEngine::wait_for_abort(const std::string& prefix,
                                std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
        return std::any_of(aborted_.begin(), aborted_.end(),
                           [&](const std::string& id) { return id.rfind(prefix, 0) == 0; });
    });
}

bool FakeEngine::step(Active& active) {
    engine::Request& request = *active.request;
    const std::optional<int> logprobs = request.params.logprobs;
    request.metrics.num_cached_tokens = cached_tokens.load();
    for (engine::Completion& c : request.completions) {
        if (c.finished()) continue;
        const size_t step = c.output_ids.size();
        const char letter = static_cast<char>('a' + (size_t(c.index) + step) % 26);
        sampling::SampledToken sampled;
        sampled.token_id = ovllm::test::letter_id(letter);
        std::vector<sampling::LogprobEntry> top;
        if (logprobs) {
            sampled.has_logprobs = true;
            sampled.chosen = {sampled.token_id, -0.5f * float(step + 1), 1};
            for (int k = 0; k < *logprobs; ++k)
                top.push_back(
                    {ovllm::test::letter_id(static_cast<char>('z' - k)), -1.0f - float(k), k + 1});
        }
        processor_.append_token(request, c, sampled, top, 0.0);
    }
    request.changed = false;
    const bool finished = request.finished();
    if (std::optional<RequestOutput> output = processor_.make_output(request, 0.0))
        active.stream->push(std::move(*output));
    if (active.fail) {
        active.stream->close("fake engine: the model run failed");
        return true;
    }
    if (finished) active.stream->close();
    return finished;
}

void FakeEngine::loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (active_.empty() || paused) {
            changed_.wait_for(lock, std::chrono::milliseconds(5));
            continue;
        }
        for (auto it = active_.begin(); it != active_.end();) {
            it = step(it->second) ? active_.erase(it) : std::next(it);
        }
        lock.unlock();
        std::this_thread::sleep_for(tick_);
        lock.lock();
    }
}

}  // namespace ovllm::server::test
