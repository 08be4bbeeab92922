#include "server/generation.hpp"

#include <algorithm>

namespace ovllm::server {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

}  // namespace

Generation::Generation(EngineClient& engine, ServerMetrics& metrics,
                       std::vector<GenerateRequest> requests)
    : engine_(engine), metrics_(metrics), start_(Clock::now()) {
    n_ = requests.empty() ? 1 : std::max(requests.front().params.n, 1);
    prompts_.reserve(requests.size());
    try {
        for (GenerateRequest& request : requests) {
            Prompt prompt;
            prompt.request_id = request.request_id;
            prompt.prompt_tokens = static_cast<int>(request.prompt_token_ids.size());
            prompt.generated.assign(static_cast<size_t>(n_), 0);
            prompt.choice_done.assign(static_cast<size_t>(n_), false);
            prompt.last_output = start_;
            prompt.stream = engine_.submit(std::move(request));
            prompts_.push_back(std::move(prompt));
        }
    } catch (...) {
        abort();
        throw;
    }
}

Generation::~Generation() {
    abort();
}

void Generation::abort() {
    for (Prompt& prompt : prompts_) {
        if (prompt.finished) continue;
        engine_.abort(prompt.request_id);
        close_prompt(prompt);
    }
}

void Generation::set_wake(const std::function<void()>& wake) {
    for (Prompt& prompt : prompts_) prompt.stream->set_listener(wake);
}

void Generation::finish_choice(Prompt& prompt, size_t choice, const std::string& reason) {
    if (choice >= prompt.choice_done.size() || prompt.choice_done[choice]) return;
    prompt.choice_done[choice] = true;
    ServerMetrics::FinishedRequest finished;
    finished.finish_reason = reason;
    // Prompt tokens are counted once per prompt, with its first finished choice.
    finished.prompt_tokens = prompt.prompt_tokens_recorded ? 0 : prompt.prompt_tokens;
    prompt.prompt_tokens_recorded = true;
    finished.generation_tokens = prompt.generated[choice];
    finished.e2e_seconds = seconds_between(start_, Clock::now());
    metrics_.record_finished(finished);
}

// Choices the engine never finished count as aborted.
void Generation::close_prompt(Prompt& prompt) {
    for (size_t choice = 0; choice < prompt.choice_done.size(); ++choice) {
        finish_choice(prompt, choice, "abort");
    }
    prompt.finished = true;
}

void Generation::account(Prompt& prompt, const RequestOutput& output) {
    const auto now = Clock::now();
    int new_tokens = 0;
    for (const CompletionOutput& completion : output.outputs) {
        const auto choice = static_cast<size_t>(completion.index);
        if (choice >= prompt.generated.size()) continue;
        const int count = static_cast<int>(completion.token_ids.size());
        prompt.generated[choice] += count;
        new_tokens += count;
    }
    if (new_tokens > 0) {
        if (!prompt.first_token_seen) {
            prompt.first_token_seen = true;
            metrics_.record_first_token(seconds_between(start_, now));
            if (new_tokens > 1) {
                metrics_.record_inter_token(0.0, new_tokens - 1);
            }
        } else {
            metrics_.record_inter_token(seconds_between(prompt.last_output, now), new_tokens);
        }
        prompt.last_output = now;
    }
    prompt.cached_tokens = output.metrics.num_cached_tokens;
    for (const CompletionOutput& completion : output.outputs) {
        if (completion.finish_reason) {
            finish_choice(prompt, static_cast<size_t>(completion.index), *completion.finish_reason);
        }
    }
    if (output.finished) close_prompt(prompt);
}

bool Generation::try_take(size_t index, std::chrono::milliseconds timeout, Event& event,
                          State& state) {
    Prompt& prompt = prompts_[index];
    OutputStream::Next next = prompt.stream->next(timeout);
    if (next.status == OutputStream::Status::output) {
        account(prompt, next.output);
        event.prompt = index;
        event.output = std::move(next.output);
        state = State::output;
        return true;
    }
    if (next.status == OutputStream::Status::closed) {
        close_prompt(prompt);
        const std::string error = prompt.stream->error();
        if (!error.empty()) {
            error_ = error;
            state = State::error;
            return true;
        }
    }
    return false;
}

Generation::State Generation::next(std::chrono::milliseconds timeout, Event& event) {
    const auto deadline = Clock::now() + timeout;
    State state = State::timeout;
    while (true) {
        // First anything already queued, starting after the prompt served last time.
        size_t open = 0, last_open = 0;
        for (size_t k = 0; k < prompts_.size(); ++k) {
            const size_t index = (cursor_ + k) % prompts_.size();
            if (prompts_[index].finished) continue;
            if (try_take(index, std::chrono::milliseconds(0), event, state)) {
                cursor_ = index + 1;
                return state;
            }
            if (!prompts_[index].finished) {
                ++open;
                last_open = index;
            }
        }
        if (open == 0) return State::done;
        const auto now = Clock::now();
        if (now >= deadline) return State::timeout;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        // One open stream: block on it. Several: wait briefly on one, then poll them all.
        const auto wait = open == 1 ? left : std::min(left, std::chrono::milliseconds(2));
        if (try_take(last_open, std::max(wait, std::chrono::milliseconds(1)), event, state)) {
            return state;
        }
    }
}

Usage Generation::usage() const {
    Usage usage;
    for (const Prompt& prompt : prompts_) {
        usage.prompt_tokens += prompt.prompt_tokens;
        usage.cached_tokens += prompt.cached_tokens;
        for (const int count : prompt.generated) usage.completion_tokens += count;
    }
    return usage;
}

}  // namespace ovllm::server
