#pragma once
// The stages that edit one logits row ([vocab] floats) in place before truncation and
// sampling, in the order the sampler runs them (vLLM v1's order):
//   allowed_token_ids -> bad words -> min_tokens -> logit_bias -> repetition, frequency,
//   presence penalties.
// Token ids outside [0, vocab) are ignored here; validate_for_vocab() rejects them earlier.
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "ovllm/sampling_params.hpp"

namespace ovllm::sampling {

// Per-worker buffers sized to the vocabulary once, then reused: no allocation per step.
// Every stage leaves them as it found them (counts all zero, marks all clear).
struct ProcessorScratch {
    std::vector<int32_t> counts;  // [vocab] output-token occurrences
    std::vector<uint8_t> marks;   // [vocab] "already penalised" flags
    std::vector<float> saved;     // values of the allowed tokens while the row is masked

    void ensure_vocab(size_t vocab);
};

// Every token not in `allowed` becomes -inf.
void apply_allowed_token_ids(std::span<float> row, std::span<const int64_t> allowed,
                             ProcessorScratch& scratch);

// Each bad word is a token sequence; its last token becomes -inf when the output ends
// with the rest of it (always, for a one-token bad word). Only output tokens count.
void apply_bad_words(std::span<float> row, std::span<const std::vector<int64_t>> bad_words,
                     std::span<const int64_t> output_ids);

// Until `min_tokens` tokens are generated, the stop_token_ids and (unless ignore_eos) the
// EOS ids become -inf.
void apply_min_tokens(std::span<float> row, const SamplingParams& params, size_t num_output,
                      std::span<const int64_t> eos_ids);

// row[id] += bias for each entry.
void apply_logit_bias(std::span<float> row, const std::map<int64_t, float>& logit_bias);

// Repetition penalty over prompt and output tokens (each distinct token once: positive
// logits divided by the penalty, others multiplied), then over output tokens only:
// row[t] -= frequency_penalty * count(t), and row[t] -= presence_penalty if count(t) > 0.
void apply_penalties(std::span<float> row, const SamplingParams& params,
                     std::span<const int64_t> prompt_ids, std::span<const int64_t> output_ids,
                     ProcessorScratch& scratch);

}  // namespace ovllm::sampling
