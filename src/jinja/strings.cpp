#include "jinja/strings.hpp"

#include <algorithm>

#include <utf8proc.h>

namespace ovllm::jinja {
namespace {

struct CodePoint {
    int32_t cp;     // -1 for an invalid byte
    size_t offset;  // byte offset in the string
    size_t size;    // bytes
};

std::vector<CodePoint> decode(std::string_view s) {
    std::vector<CodePoint> out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        utf8proc_int32_t cp = 0;
        const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                        static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
        const size_t len = n > 0 ? static_cast<size_t>(n) : 1;
        out.push_back(CodePoint{n > 0 ? cp : -1, i, len});
        i += len;
    }
    return out;
}

void encode(std::string& out, int32_t cp) {
    utf8proc_uint8_t buf[4];
    const auto n = utf8proc_encode_char(cp, buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

bool is_py_space(int32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_cased(int32_t c) {
    if (c < 0) return false;
    const auto cat = utf8proc_category(c);
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
           cat == UTF8PROC_CATEGORY_LT;
}

bool is_alpha(int32_t c) {
    if (c < 0) return false;
    const auto cat = utf8proc_category(c);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

bool is_digit_cp(int32_t c) {
    return c >= 0 && utf8proc_category(c) == UTF8PROC_CATEGORY_ND;
}

}  // namespace

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (const char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    }
    return n;
}

std::vector<std::string> utf8_chars(std::string_view s) {
    std::vector<std::string> out;
    for (const CodePoint& c : decode(s)) out.emplace_back(s.substr(c.offset, c.size));
    return out;
}

std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right) {
    const std::vector<CodePoint> cps = decode(s);
    std::vector<int32_t> set;
    if (chars) {
        for (const CodePoint& c : decode(*chars)) set.push_back(c.cp);
    }
    const auto strip_it = [&](int32_t cp) {
        return chars ? std::find(set.begin(), set.end(), cp) != set.end() : is_py_space(cp);
    };
    size_t begin = 0;
    size_t end = cps.size();
    if (left) {
        while (begin < end && strip_it(cps[begin].cp)) ++begin;
    }
    if (right) {
        while (end > begin && strip_it(cps[end - 1].cp)) --end;
    }
    if (begin == end) return {};
    const size_t from = cps[begin].offset;
    const size_t to = cps[end - 1].offset + cps[end - 1].size;
    return std::string(s.substr(from, to - from));
}

std::vector<std::string> py_split(std::string_view s, const std::string* sep, int64_t maxsplit,
                                  bool from_right) {
    std::vector<std::string> parts;
    if (sep) {
        if (sep->empty()) throw EvalError("empty separator");
        if (!from_right) {
            size_t start = 0;
            for (size_t at = s.find(*sep); at != std::string_view::npos; at = s.find(*sep, start)) {
                if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) break;
                parts.emplace_back(s.substr(start, at - start));
                start = at + sep->size();
            }
            parts.emplace_back(s.substr(start));
            return parts;
        }
        size_t end = s.size();
        while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
            if (end < sep->size()) break;
            const size_t at = s.rfind(*sep, end - sep->size());
            if (at == std::string_view::npos) break;
            parts.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
            end = at;
        }
        parts.emplace_back(s.substr(0, end));
        std::reverse(parts.begin(), parts.end());
        return parts;
    }
    const std::vector<CodePoint> cps = decode(s);
    // Whitespace split: runs of whitespace separate words; the remainder after maxsplit keeps
    // its inner whitespace.
    std::vector<std::pair<size_t, size_t>> words;  // code point ranges
    size_t i = 0;
    while (i < cps.size()) {
        while (i < cps.size() && is_py_space(cps[i].cp)) ++i;
        if (i == cps.size()) break;
        size_t j = i;
        while (j < cps.size() && !is_py_space(cps[j].cp)) ++j;
        words.emplace_back(i, j);
        i = j;
    }
    const auto bytes = [&](size_t a, size_t b) {
        return std::string(
            s.substr(cps[a].offset, cps[b - 1].offset + cps[b - 1].size - cps[a].offset));
    };
    if (maxsplit < 0 || static_cast<int64_t>(words.size()) <= maxsplit + 1) {
        for (const auto& [a, b] : words) parts.push_back(bytes(a, b));
        return parts;
    }
    const auto keep = static_cast<size_t>(maxsplit);
    if (!from_right) {
        for (size_t w = 0; w < keep; ++w) parts.push_back(bytes(words[w].first, words[w].second));
        parts.push_back(bytes(words[keep].first, words.back().second));
    } else {
        const size_t first_single = words.size() - keep;
        parts.push_back(bytes(words[0].first, words[first_single - 1].second));
        for (size_t w = first_single; w < words.size(); ++w) {
            parts.push_back(bytes(words[w].first, words[w].second));
        }
    }
    return parts;
}

std::vector<std::string> py_splitlines(std::string_view s) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\n' && s[i] != '\r') continue;
        lines.emplace_back(s.substr(start, i - start));
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        start = i + 1;
    }
    if (start < s.size()) lines.emplace_back(s.substr(start));
    return lines;
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view replacement,
                       int64_t count) {
    std::string out;
    if (old.empty()) {
        // Python inserts the replacement between every character and at both ends.
        const std::vector<CodePoint> cps = decode(s);
        int64_t done = 0;
        for (const CodePoint& c : cps) {
            if (count < 0 || done < count) {
                out += replacement;
                ++done;
            }
            out += s.substr(c.offset, c.size);
        }
        if (count < 0 || done < count) out += replacement;
        return out;
    }
    size_t start = 0;
    int64_t done = 0;
    for (size_t at = s.find(old); at != std::string_view::npos && (count < 0 || done < count);
         at = s.find(old, start)) {
        out += s.substr(start, at - start);
        out += replacement;
        start = at + old.size();
        ++done;
    }
    out += s.substr(start);
    return out;
}

std::string py_format(std::string_view fmt, const Args& args) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        const char c = fmt[i];
        if ((c == '{' || c == '}') && i + 1 < fmt.size() && fmt[i + 1] == c) {
            out.push_back(c);
            ++i;
            continue;
        }
        if (c == '}') throw EvalError("single '}' encountered in format string");
        if (c != '{') {
            out.push_back(c);
            continue;
        }
        const size_t close = fmt.find('}', i);
        if (close == std::string_view::npos)
            throw EvalError("single '{' encountered in format string");
        std::string_view field = fmt.substr(i + 1, close - i - 1);
        field = field.substr(0, std::min(field.find(':'), field.find('!')));
        const Value* value = nullptr;
        if (field.empty()) {
            value = auto_index < args.positional.size() ? &args.positional[auto_index] : nullptr;
            ++auto_index;
        } else if (std::all_of(field.begin(), field.end(),
                               [](char d) { return d >= '0' && d <= '9'; })) {
            const auto index = std::stoul(std::string(field));
            value = index < args.positional.size() ? &args.positional[index] : nullptr;
        } else {
            value = args.get(args.positional.size(), field);
        }
        if (!value) throw EvalError("format field '" + std::string(field) + "' has no argument");
        value->append_str(out);
        i = close;
    }
    return out;
}

std::string case_map(std::string_view s, CaseMode mode) {
    std::string out;
    out.reserve(s.size());
    bool previous_cased = false;
    bool at_word_start = true;
    bool first = true;
    for (const CodePoint& c : decode(s)) {
        if (c.cp < 0) {
            out += s.substr(c.offset, c.size);
            continue;
        }
        int32_t mapped = c.cp;
        switch (mode) {
            case CaseMode::Upper:
                mapped = utf8proc_toupper(c.cp);
                break;
            case CaseMode::Lower:
                mapped = utf8proc_tolower(c.cp);
                break;
            case CaseMode::Capitalize:
                mapped = first ? utf8proc_totitle(c.cp) : utf8proc_tolower(c.cp);
                break;
            case CaseMode::PyTitle:
                mapped = previous_cased ? utf8proc_tolower(c.cp) : utf8proc_totitle(c.cp);
                previous_cased = is_cased(c.cp);
                break;
            case CaseMode::JinjaTitle: {
                const bool boundary = c.cp == '-' || c.cp == '(' || c.cp == '{' || c.cp == '[' ||
                                      c.cp == '<' || is_py_space(c.cp);
                mapped = at_word_start ? utf8proc_toupper(c.cp) : utf8proc_tolower(c.cp);
                at_word_start = boundary;
                break;
            }
        }
        first = false;
        encode(out, mapped);
    }
    return out;
}

bool char_class_test(std::string_view s, std::string_view test) {
    const std::vector<CodePoint> cps = decode(s);
    if (cps.empty()) return false;
    if (test == "isupper" || test == "islower") {
        bool any_cased = false;
        for (const CodePoint& c : cps) {
            if (!is_cased(c.cp)) continue;
            any_cased = true;
            const bool upper = utf8proc_category(c.cp) == UTF8PROC_CATEGORY_LU;
            const bool lower = utf8proc_category(c.cp) == UTF8PROC_CATEGORY_LL;
            if (test == "isupper" ? !upper : !lower) return false;
        }
        return any_cased;
    }
    return std::all_of(cps.begin(), cps.end(), [&](const CodePoint& c) {
        if (test == "isdigit") return is_digit_cp(c.cp);
        if (test == "isspace") return is_py_space(c.cp);
        if (test == "isalpha") return is_alpha(c.cp);
        return is_alpha(c.cp) || is_digit_cp(c.cp);
    });
}

}  // namespace ovllm::jinja
