#include "util/utf8.hpp"

namespace ovllm::utf8 {

void append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

namespace {

// How many bytes of a sequence starting at `pos` are a valid prefix (the "maximal subpart").
// Returns {valid_prefix_length, complete}.
struct Prefix {
    size_t length;
    bool complete;
};

Prefix scan(std::string_view bytes, size_t pos) {
    const auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[pos + i]); };
    const unsigned char b0 = at(0);
    if (b0 < 0x80) return {1, true};
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return {0, false};
    }
    size_t have = 1;
    while (have < need && pos + have < bytes.size()) {
        const unsigned char b = at(have);
        const bool ok = have == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
        if (!ok) break;
        ++have;
    }
    return {have, have == need};
}

}  // namespace

size_t valid_sequence_at(std::string_view bytes, size_t pos) {
    const Prefix p = scan(bytes, pos);
    return p.complete ? p.length : 0;
}

size_t first_invalid(std::string_view bytes) {
    size_t pos = 0;
    while (pos < bytes.size()) {
        if (static_cast<unsigned char>(bytes[pos]) < 0x80) {
            ++pos;
            continue;
        }
        const size_t len = valid_sequence_at(bytes, pos);
        if (len == 0) return pos;
        pos += len;
    }
    return std::string_view::npos;
}

void append_lossy(std::string& out, std::string_view bytes) {
    size_t pos = 0;
    while (pos < bytes.size()) {
        const size_t start = pos;
        while (pos < bytes.size() && static_cast<unsigned char>(bytes[pos]) < 0x80) ++pos;
        out.append(bytes.substr(start, pos - start));
        if (pos == bytes.size()) break;
        const Prefix p = scan(bytes, pos);
        if (p.complete) {
            out.append(bytes.substr(pos, p.length));
        } else {
            out.append(kReplacement);
        }
        pos += p.length == 0 ? 1 : p.length;
    }
}

bool is_whitespace(char32_t cp) {
    if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    switch (cp) {
        case 0x85:
        case 0xA0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000:
            return true;
        default:
            return cp >= 0x2000 && cp <= 0x200A;
    }
}

}  // namespace ovllm::utf8
