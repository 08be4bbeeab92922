#pragma once
// Added tokens ("added_tokens" of tokenizer.json): matched in the text before the model runs,
// leftmost-longest, with lstrip / rstrip / single_word honoured. Tokens with normalized=false
// are matched in the raw text, the others in the normalized text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_util.hpp"

namespace ovllm::tokenizer {

struct AddedToken {
    int64_t id = 0;
    std::string content;
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = false;
    bool special = false;
};

// A stretch of text: either plain text [begin, end) or one added token (id >= 0).
struct Segment {
    size_t begin;
    size_t end;
    int64_t id;  // -1 for plain text
};

// A byte trie that finds the leftmost-longest occurrence of any of its strings.
class TokenMatcher {
  public:
    void add(std::string_view text, int32_t token_index);
    bool empty() const { return nodes_.size() <= 1; }
    // Longest string starting at `pos`: {length, token index}, or {0, -1}.
    std::pair<size_t, int32_t> longest_at(std::string_view text, size_t pos) const;
    bool may_start(unsigned char byte) const { return first_bytes_[byte]; }

  private:
    struct Node {
        std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
        int32_t token = -1;
    };
    std::vector<Node> nodes_{Node{}};
    bool first_bytes_[256] = {};
};

class AddedVocabulary {
  public:
    // `normalize` is applied to the content of normalized tokens before matching.
    template <typename NormalizeFn>
    void build(std::vector<AddedToken> tokens, NormalizeFn&& normalize) {
        tokens_ = std::move(tokens);
        for (size_t i = 0; i < tokens_.size(); ++i) {
            const AddedToken& t = tokens_[i];
            if (t.content.empty()) continue;
            if (t.normalized) {
                normalized_.add(normalize(t.content), static_cast<int32_t>(i));
            } else {
                raw_.add(t.content, static_cast<int32_t>(i));
            }
        }
    }

    // Cuts `text` at the added tokens of one kind; appends segments covering all of it.
    void split(std::string_view text, bool normalized_kind, std::vector<Segment>& out) const;

    const std::vector<AddedToken>& tokens() const { return tokens_; }
    bool has_normalized() const { return !normalized_.empty(); }

  private:
    std::vector<AddedToken> tokens_;
    TokenMatcher raw_;
    TokenMatcher normalized_;
};

// Parses the "added_tokens" array (errors name the file and JSON path).
std::vector<AddedToken> parse_added_tokens(const Json& list, const JsonPath& at);

}  // namespace ovllm::tokenizer
