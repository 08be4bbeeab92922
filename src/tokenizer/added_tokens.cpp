#include "tokenizer/added_tokens.hpp"

#include <algorithm>

#include <utf8proc.h>

#include "util/utf8.hpp"

namespace ovllm::tokenizer {

void TokenMatcher::add(std::string_view text, int32_t token_index) {
    int32_t node = 0;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        auto& children = nodes_[node].children;
        auto it =
            std::lower_bound(children.begin(), children.end(), byte,
                             [](const auto& child, unsigned char b) { return child.first < b; });
        if (it != children.end() && it->first == byte) {
            node = it->second;
            continue;
        }
        const auto child = static_cast<int32_t>(nodes_.size());
        children.insert(it, {byte, child});
        nodes_.emplace_back();
        node = child;
    }
    // The first token with a given content wins, as in a map keyed by content.
    if (nodes_[node].token < 0) nodes_[node].token = token_index;
    first_bytes_[static_cast<unsigned char>(text[0])] = true;
}

std::pair<size_t, int32_t> TokenMatcher::longest_at(std::string_view text, size_t pos) const {
    std::pair<size_t, int32_t> best{0, -1};
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        const auto& children = nodes_[node].children;
        const auto it =
            std::lower_bound(children.begin(), children.end(), byte,
                             [](const auto& child, unsigned char b) { return child.first < b; });
        if (it == children.end() || it->first != byte) break;
        node = it->second;
        if (nodes_[node].token >= 0) best = {i + 1 - pos, nodes_[node].token};
    }
    return best;
}

namespace {

bool is_word_char(char32_t cp) {
    if (cp == '_') return true;
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
        case UTF8PROC_CATEGORY_PC:
            return true;
        default:
            return false;
    }
}

size_t char_start_before(std::string_view text, size_t pos) {
    size_t start = pos - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    return start;
}

char32_t char_before(std::string_view text, size_t pos) {
    size_t start = char_start_before(text, pos);
    return utf8::next(text, start);
}

}  // namespace

void AddedVocabulary::split(std::string_view text, bool normalized_kind,
                            std::vector<Segment>& out) const {
    const TokenMatcher& matcher = normalized_kind ? normalized_ : raw_;
    size_t emitted = 0;  // end of what the segments cover so far
    size_t pos = 0;
    while (pos < text.size()) {
        if (!matcher.may_start(static_cast<unsigned char>(text[pos]))) {
            ++pos;
            continue;
        }
        const auto [length, index] = matcher.longest_at(text, pos);
        if (index < 0) {
            ++pos;
            continue;
        }
        const AddedToken& token = tokens_[static_cast<size_t>(index)];
        size_t start = pos;
        size_t stop = pos + length;
        if (token.single_word) {
            const bool word_before = start > 0 && is_word_char(char_before(text, start));
            size_t after = stop;
            const bool word_after = stop < text.size() && is_word_char(utf8::next(text, after));
            if (word_before || word_after) {
                ++pos;
                continue;
            }
        }
        if (token.lstrip) {
            while (start > emitted && utf8::is_whitespace(char_before(text, start))) {
                start = char_start_before(text, start);
            }
        }
        if (token.rstrip) {
            while (stop < text.size()) {
                size_t next = stop;
                if (!utf8::is_whitespace(utf8::next(text, next))) break;
                stop = next;
            }
        }
        if (start > emitted) out.push_back({emitted, start, -1});
        out.push_back({start, stop, token.id});
        emitted = stop;
        pos = stop;
    }
    if (emitted < text.size() || text.empty()) out.push_back({emitted, text.size(), -1});
}

std::vector<AddedToken> parse_added_tokens(const Json& list, const JsonPath& at) {
    if (!list.is_array()) json_fail(at, "expected an array");
    std::vector<AddedToken> tokens;
    tokens.reserve(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
        const JsonPath where = at[i];
        const Json& node = list[i];
        AddedToken token;
        token.id = json_int(json_member(node, where, "id"), where / "id");
        if (token.id < 0) json_fail(where / "id", "negative id");
        token.content = json_string(node, where, "content");
        token.single_word = json_bool_or(node, where, "single_word", false);
        token.lstrip = json_bool_or(node, where, "lstrip", false);
        token.rstrip = json_bool_or(node, where, "rstrip", false);
        token.special = json_bool_or(node, where, "special", false);
        token.normalized = json_bool_or(node, where, "normalized", !token.special);
        tokens.push_back(std::move(token));
    }
    return tokens;
}

}  // namespace ovllm::tokenizer
