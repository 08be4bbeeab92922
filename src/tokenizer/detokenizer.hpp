#pragma once
// Streaming ids -> text. Each step returns only text that is complete: nothing while the
// decoded text ends in an unfinished UTF-8 character (U+FFFD), so a character split across
// tokens (or across <0xNN> byte-fallback tokens) comes out whole, once.
//
// It keeps a short window of recent ids: `prefix` is the text of the window up to the last
// emission, and a step decodes only the window, so a step costs O(window), not O(sequence).
// The deltas equal those of decoding the whole sequence at each step and emitting what is new.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace ovllm::tokenizer {

class IncrementalDetokenizer {
  public:
    // `tokenizer` must outlive this object.
    IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens);

    // Feeds one generated id; returns the text it completes (often "", never a partial char).
    std::string step(int64_t id);

    // Before the first step: takes ids whose text the caller does not want (e.g. the prompt's
    // last few ids) as context, so the first generated token is decoded as it would follow them.
    void prime(std::span<const int64_t> ids);

    // Ids held in the window (for tests: it stays small).
    size_t window_size() const { return ids_.size(); }

  private:
    const Tokenizer* tokenizer_;
    bool skip_special_tokens_;
    std::vector<int64_t> ids_;  // the window of recent ids
    std::string prefix_;        // text of ids_ at the last emission (all that was emitted of them)
    size_t prefix_index_ = 0;   // ids_ before this index drop out at the next emission
};

}  // namespace ovllm::tokenizer
