#include "tokenizer/detokenizer.hpp"

#include "util/utf8.hpp"

namespace ovllm::tokenizer {

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string IncrementalDetokenizer::step(int64_t id) {
    ids_.push_back(id);
    const std::string text = tokenizer_->decode(ids_, skip_special_tokens_);
    if (text.size() <= prefix_.size() || utf8::ends_with_replacement(text)) return {};

    // The window's text normally extends what was emitted. When byte-fallback decoding has
    // turned an already emitted byte into U+FFFD it does not; then the text past the emitted
    // length is new, starting at a character boundary so the delta stays valid UTF-8.
    size_t start = prefix_.size();
    while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
    if (start >= text.size()) return {};
    std::string delta = text.substr(start);

    // Slide the window: keep the ids from the previous emission on; their text is the new prefix.
    const size_t new_prefix_index = ids_.size() - prefix_index_;
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_index_));
    prefix_ = tokenizer_->decode(ids_, skip_special_tokens_);
    prefix_index_ = new_prefix_index;
    return delta;
}

void IncrementalDetokenizer::prime(std::span<const int64_t> ids) {
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    std::string text = tokenizer_->decode(ids_, skip_special_tokens_);
    if (!utf8::ends_with_replacement(text)) {
        prefix_ = std::move(text);
        prefix_index_ = ids_.size();
    }
}

}  // namespace ovllm::tokenizer
