#pragma once
// Log-probabilities from a logits row: log_softmax(x)_i = x_i - log(sum_j exp(x_j)).
// The sampler computes them from the raw logits, before any processor or temperature,
// as vLLM v1 does by default (logprobs_mode = "raw_logprobs").
#include <cstdint>
#include <span>
#include <vector>

#include "sampling/truncation.hpp"

namespace ovllm::sampling {

struct LogprobEntry {
    int64_t token_id = 0;
    float logprob = 0.0f;
    int32_t rank = 0;  // 1 = most likely; a token's rank counts every token tied with it
};

// log(sum exp(row)): subtract it from a logit to get that token's logprob.
float log_normalizer(std::span<const float> row);

// `token`'s logprob and rank (the number of tokens whose logit is >= its own).
LogprobEntry token_logprob(std::span<const float> row, int64_t token, float normalizer);

// Writes the out.size() most likely tokens, best first (ties: lower id first), with ranks
// 1..n. out.size() must not exceed row.size().
void write_top_logprobs(std::span<const float> row, float normalizer, TopScratch& scratch,
                        std::span<LogprobEntry> out);

// Prompt logprobs: row p of `logits` ([positions, vocab]) predicts `targets[p]`.
struct PromptLogprobs {
    std::vector<LogprobEntry> chosen;  // [positions]
    std::vector<LogprobEntry> top;     // [positions, top_n]
    size_t top_n = 0;

    std::span<const LogprobEntry> top_of(size_t position) const {
        return std::span<const LogprobEntry>(top).subspan(position * top_n, top_n);
    }
};

// Fills `out` (cleared first, capacity kept). Throws ovllm::Error when logits.size() is not
// targets.size() * vocab or a target is outside the vocabulary.
void compute_prompt_logprobs(std::span<const float> logits, size_t vocab,
                             std::span<const int64_t> targets, size_t top_n, PromptLogprobs& out);

}  // namespace ovllm::sampling
