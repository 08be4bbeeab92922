#pragma once
// Sampled tokens in, RequestOutputs out: the engine's bookkeeping after each model step (as
// vLLM v1's OutputProcessor). Per token: logprobs, incremental detokenizing, stop checks.
// Per step: one RequestOutput per changed request, holding only what is new since that
// request's last output, so a step costs O(new tokens), never O(text so far).
//
// Incremental inside, whole at the edge: OutputKind::cumulative and ::delta requests both
// get incremental outputs here, and the API edge (LLM::generate) folds them with accumulate()
// once per output. OutputKind::final_only gets one output, whole, when the request finishes.
// No model, scheduler or runner in sight: the server tests' fake engine uses this unit too.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/request.hpp"
#include "ovllm/outputs.hpp"
#include "ovllm/sampling_params.hpp"
#include "sampling/logprobs.hpp"
#include "sampling/sampler.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ovllm::engine {

// Requests by id; unique_ptr keeps each Request at one address (its stop checker refers to
// its params, and the engine's sequence map points into it).
using RequestMap = std::unordered_map<std::string, std::unique_ptr<Request>>;

// A prompt the engine has validated and tokenized.
struct RequestInput {
    std::string id;
    std::string prompt_text;  // empty when the prompt came as token ids
    std::vector<int64_t> prompt_ids;
    SamplingParams params;  // validated; max_tokens set
    double arrival_time = 0.0;
};

class OutputProcessor {
  public:
    // `tokenizer` (null: token ids only, no text) must outlive the processor. `eos_ids` and
    // `max_model_len` are the stop checks' (prompt + output tokens at most).
    OutputProcessor(const tokenizer::Tokenizer* tokenizer, std::vector<int64_t> eos_ids,
                    size_t max_model_len);

    // The record of a new request: its stop checker, its bad words as token ids and its n
    // completions, each with a detokenizer primed on the prompt's last ids. Sequence ids are
    // the caller's to set.
    std::unique_ptr<Request> make_request(RequestInput input) const;

    // Appends one sampled token to a completion: its logprobs, its text and the stop checks.
    // Returns true when the token finished the completion (finish_reason is then set).
    // `now`: the RequestMetrics clock.
    bool append_token(Request& request, Completion& completion,
                      const sampling::SampledToken& sampled,
                      std::span<const sampling::LogprobEntry> top, double now) const;

    // Appends the logprobs of prompt tokens (from sampling::compute_prompt_logprobs) to
    // request.prompt_logprobs, with each token's text.
    void append_prompt_logprobs(Request& request, const sampling::PromptLogprobs& logprobs) const;

    // What is new in a request since its last output; nullopt when nothing is to be reported
    // yet (final_only before the end).
    std::optional<RequestOutput> make_output(Request& request, double now) const;

    // The outputs of every request changed since the last call; finished requests leave
    // `requests` (their sequences must be finished already).
    std::vector<RequestOutput> collect_outputs(RequestMap& requests, double now) const;

    const std::vector<int64_t>& eos_ids() const { return eos_ids_; }

  private:
    const tokenizer::Tokenizer* tokenizer_;
    std::vector<int64_t> eos_ids_;
    size_t max_model_len_;
};

// Folds an incremental output into the request's whole output so far: text, ids and logprobs
// appended per completion index, the rest replaced. Costs O(update), so accumulating a whole
// stream costs O(total length). The first output of a stream carries the prompt.
void accumulate(RequestOutput& total, RequestOutput&& update);

}  // namespace ovllm::engine
