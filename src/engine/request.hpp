#pragma once
// The engine's record of one request and its n completions. Only the engine touches
// these; other stages see plain inputs built from them (SequenceSpec, SamplerRow, ...).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ovllm/outputs.hpp"
#include "ovllm/sampling_params.hpp"
#include "sampling/rng.hpp"
#include "sampling/stop_checker.hpp"
#include "scheduler/scheduler.hpp"
#include "structured_output/sequence_grammar.hpp"
#include "tokenizer/detokenizer.hpp"

namespace ovllm::engine {

// One completion of a request: a scheduler sequence plus its text and stop state.
struct Completion {
    sched::SeqId seq_id = 0;
    int index = 0;                    // 0..n-1
    std::vector<int64_t> output_ids;  // [generated tokens]
    std::string text;                 // detokenized output, cut at a stop string
    size_t emitted_bytes = 0;         // text already sent (delta mode) or releasable
    size_t emitted_ids = 0;           // output_ids already sent in delta mode
    size_t emitted_logprobs = 0;
    std::optional<tokenizer::IncrementalDetokenizer> detokenizer;  // none without tokenizer
    sampling::RngState rng;
    std::unique_ptr<structured::SequenceGrammar> grammar;  // params.structured_outputs' state
    std::vector<PositionLogprobs> logprobs;
    double cumulative_logprob = 0.0;
    std::optional<std::string> finish_reason;  // "stop", "length", "abort"
    std::optional<std::string> stop_reason_text;
    std::optional<int64_t> stop_reason_token;
    bool finish_reported = false;  // an output with the finish reason went out

    bool finished() const { return finish_reason.has_value(); }
};

struct Request {
    std::string id;
    std::string prompt;               // the text, when the request came as text
    std::vector<int64_t> prompt_ids;  // [prompt tokens]
    SamplingParams params;
    std::vector<std::vector<int64_t>> bad_words_ids;      // params.bad_words, tokenized once
    std::unique_ptr<sampling::StopChecker> stop_checker;  // refers to `params`
    std::vector<Completion> completions;                  // [n]
    // params.prompt_logprobs: entry p for prompt token p + 1, as its positions are computed
    // (by completion 0; the others repeat the same prompt).
    std::vector<PositionLogprobs> prompt_logprobs;
    RequestMetrics metrics;
    bool seen_first_schedule = false;
    bool changed = false;          // something to report after this step
    bool prompt_reported = false;  // a delta output has carried the prompt already

    bool finished() const {
        for (const Completion& c : completions)
            if (!c.finished()) return false;
        return true;
    }
};

}  // namespace ovllm::engine
