#include "spec_decode/ngram_proposer.hpp"

#include <algorithm>

namespace ovllm::spec {
namespace {

// Start of the most recent occurrence of history's last n tokens that ends before the
// history does, or history.size() when there is none.
size_t latest_earlier_match(std::span<const int64_t> history, size_t n) {
    const size_t size = history.size();
    const std::span<const int64_t> suffix = history.subspan(size - n);
    for (size_t start = size - n; start-- > 0;) {
        if (std::equal(suffix.begin(), suffix.end(), history.begin() + static_cast<long>(start)))
            return start;
    }
    return size;
}

}  // namespace

void propose_ngram_drafts(std::span<const int64_t> history, const NgramConfig& config,
                          std::vector<int64_t>& drafts) {
    drafts.clear();
    if (config.num_drafts == 0 || config.min_ngram == 0 || history.size() < 2) return;
    const size_t longest = std::min(config.max_ngram, history.size() - 1);
    for (size_t n = longest; n >= config.min_ngram; --n) {
        const size_t start = latest_earlier_match(history, n);
        if (start == history.size()) continue;
        const size_t from = start + n;  // < history.size(): the match ends before the suffix
        const size_t count = std::min(config.num_drafts, history.size() - from);
        drafts.assign(history.begin() + static_cast<long>(from),
                      history.begin() + static_cast<long>(from + count));
        return;
    }
}

}  // namespace ovllm::spec
