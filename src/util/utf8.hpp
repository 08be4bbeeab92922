#pragma once
// UTF-8 helpers shared by the tokenizer stages and the template engine. Byte offsets everywhere;
// char32_t code points.
#include <cstddef>
#include <string>
#include <string_view>

namespace ovllm::utf8 {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the UTF-8 sequence that starts with `lead`, 1 for stray bytes.
inline size_t sequence_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xF0) return 4;
    if (lead >= 0xE0) return 3;
    if (lead >= 0xC0) return 2;
    return 1;
}

// Decodes the code point at `pos` of valid UTF-8 text and advances `pos` past it.
inline char32_t next(std::string_view text, size_t& pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    const size_t len = sequence_length(lead);
    char32_t cp = len == 1 ? lead : lead & (0x7F >> len);
    for (size_t i = 1; i < len && pos + i < text.size(); ++i) {
        cp = (cp << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
    }
    pos += len;
    return cp;
}

void append(std::string& out, char32_t cp);

// Length of the well-formed sequence at `pos` (Unicode table 3-7), 0 if ill-formed there.
size_t valid_sequence_at(std::string_view bytes, size_t pos);

// Offset of the first ill-formed byte, or npos when `bytes` is valid UTF-8.
size_t first_invalid(std::string_view bytes);

// Replaces each maximal ill-formed subpart with U+FFFD (the rule of Rust's from_utf8_lossy).
void append_lossy(std::string& out, std::string_view bytes);

inline bool ends_with_replacement(std::string_view text) {
    return text.size() >= 3 && text.substr(text.size() - 3) == kReplacement;
}

// Unicode White_Space, as Rust's char::is_whitespace.
bool is_whitespace(char32_t cp);

}  // namespace ovllm::utf8
