#pragma once
// Prompt lookup (vLLM's "ngram" speculative method): drafts for a sequence's next tokens,
// copied from its own history. The last n tokens (n from max_ngram down to min_ngram) are
// searched for earlier in the prompt and output; the tokens that followed the most recent
// earlier occurrence are the drafts. Editing and code-completion prompts, which contain much
// of the answer, are where this pays: the model then checks several tokens in one step.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ovllm::spec {

struct NgramConfig {
    size_t num_drafts = 0;  // tokens proposed at most
    size_t min_ngram = 1;   // shortest suffix matched
    size_t max_ngram = 1;   // longest suffix matched, tried first
};

// Fills `drafts` (cleared first) with up to config.num_drafts tokens; empty when no suffix of
// history matches earlier. Costs O(history size * max_ngram) comparisons.
void propose_ngram_drafts(std::span<const int64_t> history, const NgramConfig& config,
                          std::vector<int64_t>& drafts);

}  // namespace ovllm::spec
