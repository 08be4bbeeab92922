#include "sampling/logprobs.hpp"

#include <cmath>
#include <limits>

#include "sampling/row_math.hpp"
#include "util/error.hpp"

namespace ovllm::sampling {

float log_normalizer(std::span<const float> row) {
    const float max = row_max(row);
    if (max == -std::numeric_limits<float>::infinity()) return max;
    return max + static_cast<float>(std::log(sum_exp(row, max, 1.0f)));
}

LogprobEntry token_logprob(std::span<const float> row, int64_t token, float normalizer) {
    const float logit = row[static_cast<size_t>(token)];
    return LogprobEntry{token, logit - normalizer,
                        static_cast<int32_t>(count_at_least(row, logit))};
}

void write_top_logprobs(std::span<const float> row, float normalizer, TopScratch& scratch,
                        std::span<LogprobEntry> out) {
    if (out.empty()) return;
    select_top(row, out.size(), scratch);
    const std::vector<Candidate>& heap = scratch.heap;
    for (size_t i = 0; i < heap.size() && i < out.size(); ++i)
        out[i] = LogprobEntry{heap[i].id, heap[i].logit - normalizer, static_cast<int32_t>(i + 1)};
}

void compute_prompt_logprobs(std::span<const float> logits, size_t vocab,
                             std::span<const int64_t> targets, size_t top_n, PromptLogprobs& out) {
    if (vocab == 0 || logits.size() != targets.size() * vocab)
        throw_error("prompt logprobs: logits hold {} values, expected {} positions x vocab {}",
                    logits.size(), targets.size(), vocab);
    out.chosen.clear();
    out.top.clear();
    out.top_n = std::min(top_n, vocab);
    TopScratch scratch;
    for (size_t p = 0; p < targets.size(); ++p) {
        if (targets[p] < 0 || static_cast<uint64_t>(targets[p]) >= vocab)
            throw_error("prompt logprobs: token id {} at position {} is outside vocab {}",
                        targets[p], p, vocab);
        const std::span<const float> row = logits.subspan(p * vocab, vocab);
        const float normalizer = log_normalizer(row);
        out.chosen.push_back(token_logprob(row, targets[p], normalizer));
        out.top.resize(out.top.size() + out.top_n);
        write_top_logprobs(row, normalizer, scratch,
                           std::span<LogprobEntry>(out.top).subspan(p * out.top_n, out.top_n));
    }
}

}  // namespace ovllm::sampling
