#pragma once
// The engine requests behind one HTTP request (one per prompt, each with n completions):
// submits them, merges their output streams, records metrics, and aborts whatever is
// unfinished when it is destroyed (e.g. after the client went away).
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/engine_client.hpp"
#include "server/metrics.hpp"
#include "server/openai_protocol.hpp"

namespace ovllm::server {

class Generation {
  public:
    // Submits every request; all must have the same params.n. Throws what submit() throws
    // (requests submitted before a failure are aborted).
    Generation(EngineClient& engine, ServerMetrics& metrics, std::vector<GenerateRequest> requests);
    ~Generation();
    Generation(const Generation&) = delete;
    Generation& operator=(const Generation&) = delete;

    enum class State { output, timeout, done, error };
    struct Event {
        size_t prompt = 0;  // which request the output belongs to
        RequestOutput output;
    };
    // Waits up to `timeout` for the next output of any request. `done` once every request
    // finished; `error` when the engine closed a stream with an error (see error()).
    State next(std::chrono::milliseconds timeout, Event& event);
    const std::string& error() const { return error_; }

    // Aborts every unfinished request in the engine and counts it as aborted.
    void abort();
    // `wake` runs (on the engine's thread) whenever any request has a new output or ends.
    void set_wake(const std::function<void()>& wake);

    int n() const { return n_; }
    size_t num_prompts() const { return prompts_.size(); }
    // Token counts so far, over all prompts and choices.
    Usage usage() const;

  private:
    struct Prompt {
        std::string request_id;
        int prompt_tokens = 0;
        std::shared_ptr<OutputStream> stream;
        std::vector<int> generated;     // per choice, tokens so far
        std::vector<bool> choice_done;  // per choice
        bool finished = false;          // the engine sent finished or closed the stream
        bool first_token_seen = false;
        bool prompt_tokens_recorded = false;
        int cached_tokens = 0;
        std::chrono::steady_clock::time_point last_output;
    };
    void account(Prompt& prompt, const RequestOutput& output);
    void finish_choice(Prompt& prompt, size_t choice, const std::string& reason);
    void close_prompt(Prompt& prompt);
    bool try_take(size_t index, std::chrono::milliseconds timeout, Event& event, State& state);

    EngineClient& engine_;
    ServerMetrics& metrics_;
    int n_ = 1;
    std::vector<Prompt> prompts_;
    std::chrono::steady_clock::time_point start_;
    size_t cursor_ = 0;  // round-robin start, so no prompt starves the others
    std::string error_;
};

}  // namespace ovllm::server
