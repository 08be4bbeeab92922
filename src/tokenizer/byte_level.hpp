#pragma once
// The GPT-2 byte <-> printable character table used by ByteLevel pre-tokenizer and decoder:
// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 onwards.
#include <array>
#include <string>
#include <string_view>

namespace ovllm::tokenizer::byte_level {

// UTF-8 spelling of the character that stands for each byte.
const std::array<std::string, 256>& byte_to_char();

// The byte a character stands for, or -1.
int char_to_byte(char32_t cp);

// Appends the byte-level spelling of every byte of `bytes`.
void encode(std::string_view bytes, std::string& out);

// Appends the bytes a byte-level token spells; false (nothing appended) when some
// character is not in the table.
bool decode(std::string_view token, std::string& out);

}  // namespace ovllm::tokenizer::byte_level
