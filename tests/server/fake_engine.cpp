#include "fake_engine.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace ovllm::server::test {

FakeEngine::FakeEngine(std::chrono::microseconds tick) : tick_(tick) {
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
    const auto n = static_cast<size_t>(request.params.n);
    const std::string id = request.request_id;
    active_[id] =
        Active{std::move(request), stream, std::vector<int>(n, 0), std::vector<bool>(n, false)};
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
    stats.prefix_cache_queries = 100;
    stats.prefix_cache_hits = 40;
    stats.num_preemptions = 2;
    return stats;
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
    const SamplingParams& params = active.request.params;
    RequestOutput output;
    output.request_id = active.request.request_id;
    output.prompt_token_ids = active.request.prompt_token_ids;
    output.metrics.num_cached_tokens = cached_tokens.load();
    for (size_t c = 0; c < active.steps.size(); ++c) {
        if (active.done[c]) continue;
        CompletionOutput completion;
        completion.index = static_cast<int>(c);
        const char letter = static_cast<char>('a' + (c + size_t(active.steps[c])) % 26);
        const int64_t id = int64_t(static_cast<unsigned char>(letter)) + 3;
        ++active.steps[c];
        const std::string text(1, letter);
        const bool stop_string =
            std::find(params.stop.begin(), params.stop.end(), text) != params.stop.end();
        const bool stop_token =
            std::find(params.stop_token_ids.begin(), params.stop_token_ids.end(), id) !=
            params.stop_token_ids.end();
        completion.token_ids = {id};
        if (!stop_string || params.include_stop_str_in_output) completion.text = text;
        if (params.logprobs) {
            PositionLogprobs position;
            position.chosen = {id, -0.5f * float(active.steps[c]), 1, text};
            for (int k = 0; k < *params.logprobs; ++k) {
                const char other = static_cast<char>('z' - k);
                position.top.push_back(
                    {int64_t(other) + 3, -1.0f - float(k), k + 1, std::string(1, other)});
            }
            completion.logprobs.push_back(std::move(position));
        }
        if (stop_string) {
            completion.finish_reason = "stop";
            completion.stop_reason_text = text;
        } else if (stop_token) {
            completion.finish_reason = "stop";
            completion.stop_reason_token = id;
        } else if (active.steps[c] >= params.max_tokens.value_or(16)) {
            completion.finish_reason = "length";
        }
        active.done[c] = completion.finish_reason.has_value();
        output.outputs.push_back(std::move(completion));
    }
    const bool finished =
        std::all_of(active.done.begin(), active.done.end(), [](bool d) { return d; });
    output.finished = finished;
    const bool fail = active.request.prompt_text == "FAIL_STREAM";
    active.stream->push(std::move(output));
    if (fail) {
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
