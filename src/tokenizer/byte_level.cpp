#include "tokenizer/byte_level.hpp"

#include "util/utf8.hpp"

namespace ovllm::tokenizer::byte_level {

namespace {

struct Tables {
    std::array<std::string, 256> to_char;
    std::array<int, 324> to_byte{};  // indexed by code point, covers U+0000..U+0143

    Tables() {
        to_byte.fill(-1);
        int next_extra = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
            const char32_t cp = printable ? static_cast<char32_t>(b) : 256 + next_extra++;
            utf8::append(to_char[b], cp);
            to_byte[cp] = b;
        }
    }
};

const Tables& tables() {
    static const Tables instance;
    return instance;
}

}  // namespace

const std::array<std::string, 256>& byte_to_char() {
    return tables().to_char;
}

int char_to_byte(char32_t cp) {
    const auto& to_byte = tables().to_byte;
    return cp < to_byte.size() ? to_byte[cp] : -1;
}

void encode(std::string_view bytes, std::string& out) {
    const auto& to_char = tables().to_char;
    for (const char c : bytes) out.append(to_char[static_cast<unsigned char>(c)]);
}

bool decode(std::string_view token, std::string& out) {
    const size_t mark = out.size();
    size_t pos = 0;
    while (pos < token.size()) {
        const int b = char_to_byte(utf8::next(token, pos));
        if (b < 0) {
            out.resize(mark);
            return false;
        }
        out.push_back(static_cast<char>(b));
    }
    return true;
}

}  // namespace ovllm::tokenizer::byte_level
