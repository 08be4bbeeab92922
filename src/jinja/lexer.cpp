#include "jinja/lexer.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "util/error.hpp"
#include "util/utf8.hpp"

namespace ovllm::jinja {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
    return is_name_start(c) || is_digit(c);
}

std::string rstrip(std::string_view text) {
    size_t end = text.size();
    while (end > 0 && is_space(text[end - 1])) --end;
    return std::string(text.substr(0, end));
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Lexer {
  public:
    Lexer(std::string source, const std::string& name, const LexerOptions& options)
        : src_(std::move(source)), name_(name), options_(options) {
        for (size_t i = 0; i < src_.size(); ++i) {
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
        }
    }

    std::vector<Token> run() {
        bool line_starting = true;
        size_t pos = 0;
        while (pos < src_.size()) {
            const size_t start = find_tag(pos);
            if (start == std::string::npos) {
                push_text(src_.substr(pos), pos);
                break;
            }
            const char kind = src_[start + 1];
            const char sign =
                start + 2 < src_.size() && (src_[start + 2] == '-' || src_[start + 2] == '+')
                    ? src_[start + 2]
                    : '\0';
            std::string text = src_.substr(pos, start - pos);
            if (sign == '-') {
                text = rstrip(text);
            } else if (sign != '+' && options_.lstrip_blocks && kind != '{') {
                text = lstrip_line(text, line_starting);
            }
            push_text(std::move(text), pos);
            const size_t body = start + 2 + (sign ? 1 : 0);
            if (kind == '#') {
                pos = skip_comment(start, body);
            } else if (kind == '%' && is_raw(body)) {
                pos = lex_raw(start, body);
            } else {
                pos = lex_tag(start, body, kind == '{');
            }
            line_starting = pos > 0 && src_[pos - 1] == '\n';
        }
        tokens_.push_back(Token{TokenType::End, "", 0, 0});
        set_position(tokens_.back(), src_.size());
        return std::move(tokens_);
    }

  private:
    [[noreturn]] void fail(size_t offset, const std::string& message) const {
        Token t{TokenType::End, "", 0, 0};
        set_position(t, offset);
        throw_error("{}:{}:{}: {}", name_, t.line, t.column, message);
    }

    void set_position(Token& token, size_t offset) const {
        const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        const size_t line_start = *(it - 1);
        token.line = static_cast<int>(it - line_starts_.begin());
        int column = 1;
        for (size_t i = line_start; i < offset && i < src_.size(); ++i) {
            if ((static_cast<unsigned char>(src_[i]) & 0xC0) != 0x80) ++column;
        }
        token.column = column;
    }

    void push(TokenType type, std::string value, size_t offset) {
        tokens_.push_back(Token{type, std::move(value), 0, 0});
        set_position(tokens_.back(), offset);
    }

    void push_text(std::string text, size_t offset) {
        if (!text.empty()) push(TokenType::Text, std::move(text), offset);
    }

    size_t find_tag(size_t pos) const {
        for (size_t i = src_.find('{', pos); i != std::string::npos; i = src_.find('{', i + 1)) {
            if (i + 1 < src_.size() && std::strchr("{%#", src_[i + 1]) && src_[i + 1] != '\0') {
                return i;
            }
        }
        return std::string::npos;
    }

    // lstrip_blocks: drop spaces and tabs between the start of the line and a block tag.
    static std::string lstrip_line(const std::string& text, bool line_starting) {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if (l_pos == 0 && !line_starting) return text;
        if (l_pos == text.size()) return text;
        for (size_t i = l_pos; i < text.size(); ++i) {
            if (!is_space(text[i])) return text;
        }
        return text.substr(0, l_pos);
    }

    // After a closing delimiter: `-` strips all following whitespace, `+` keeps it, and a
    // plain block or comment end eats one newline (trim_blocks).
    size_t after_end(size_t pos, char sign, bool is_block) const {
        if (sign == '-') {
            while (pos < src_.size() && is_space(src_[pos])) ++pos;
        } else if (sign != '+' && is_block && options_.trim_blocks && pos < src_.size() &&
                   src_[pos] == '\n') {
            ++pos;
        }
        return pos;
    }

    size_t skip_comment(size_t start, size_t body) const {
        const size_t end = src_.find("#}", body);
        if (end == std::string::npos) fail(start, "missing end of comment tag");
        const char sign =
            end > body && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : '\0';
        return after_end(end + 2, sign, true);
    }

    // Matches `\s*raw\s*-?%}` at `body`.
    bool is_raw(size_t body) const {
        size_t p = body;
        while (p < src_.size() && is_space(src_[p])) ++p;
        if (src_.compare(p, 3, "raw") != 0) return false;
        p += 3;
        while (p < src_.size() && is_space(src_[p])) ++p;
        if (p < src_.size() && src_[p] == '-') ++p;
        return src_.compare(p, 2, "%}") == 0;
    }

    size_t lex_raw(size_t start, size_t body) {
        size_t p = src_.find("%}", body);
        const char open_sign = src_[p - 1] == '-' ? '-' : '\0';
        p = after_end(p + 2, open_sign, false);
        for (size_t q = src_.find("{%", p); q != std::string::npos; q = src_.find("{%", q + 2)) {
            size_t r = q + 2;
            const char sign =
                r < src_.size() && (src_[r] == '-' || src_[r] == '+') ? src_[r] : '\0';
            if (sign) ++r;
            while (r < src_.size() && is_space(src_[r])) ++r;
            if (src_.compare(r, 6, "endraw") != 0) continue;
            r += 6;
            while (r < src_.size() && is_space(src_[r])) ++r;
            char end_sign = '\0';
            if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) end_sign = src_[r++];
            if (src_.compare(r, 2, "%}") != 0) continue;
            std::string text = src_.substr(p, q - p);
            if (sign == '-') {
                text = rstrip(text);
            } else if (sign != '+' && options_.lstrip_blocks) {
                text = lstrip_line(text, p > 0 && src_[p - 1] == '\n');
            }
            push_text(std::move(text), p);
            return after_end(r + 2, end_sign, true);
        }
        fail(start, "missing end of raw directive");
    }

    size_t lex_tag(size_t start, size_t pos, bool is_var) {
        push(is_var ? TokenType::VarBegin : TokenType::BlockBegin, "", start);
        const char close = is_var ? '}' : '%';
        int depth = 0;
        while (true) {
            while (pos < src_.size() && is_space(src_[pos])) ++pos;
            if (pos >= src_.size()) {
                fail(start, is_var ? "unexpected end of template, expected '}}'"
                                   : "unexpected end of template, expected '%}'");
            }
            if (depth == 0) {
                char sign = '\0';
                size_t p = pos;
                if (src_[p] == '-' || src_[p] == '+') sign = src_[p++];
                if (p + 1 < src_.size() && src_[p] == close && src_[p + 1] == '}') {
                    push(is_var ? TokenType::VarEnd : TokenType::BlockEnd, "", pos);
                    return after_end(p + 2, sign, !is_var);
                }
            }
            pos = lex_expression_token(pos, depth);
        }
    }

    size_t lex_expression_token(size_t pos, int& depth) {
        const char c = src_[pos];
        if (is_name_start(c)) {
            size_t end = pos;
            while (end < src_.size() && is_name_char(src_[end])) ++end;
            push(TokenType::Name, src_.substr(pos, end - pos), pos);
            return end;
        }
        if (is_digit(c)) return lex_number(pos);
        if (c == '\'' || c == '"') return lex_string(pos);
        static const char* const two_char_ops[] = {"//", "**", "==", "!=", ">=", "<="};
        for (const char* op : two_char_ops) {
            if (src_.compare(pos, 2, op) == 0) {
                push(TokenType::Op, op, pos);
                return pos + 2;
            }
        }
        if (std::strchr("+-/*%~[](){}<>=.:|,;", c) == nullptr || c == '\0') {
            fail(pos, std::string("unexpected character '") + c + "'");
        }
        if (c == '(' || c == '[' || c == '{') ++depth;
        if (c == ')' || c == ']' || c == '}') {
            if (depth == 0) fail(pos, std::string("unexpected '") + c + "'");
            --depth;
        }
        push(TokenType::Op, std::string(1, c), pos);
        return pos + 1;
    }

    size_t scan_digits(size_t pos) const {
        while (pos < src_.size() &&
               (is_digit(src_[pos]) ||
                (src_[pos] == '_' && pos + 1 < src_.size() && is_digit(src_[pos + 1])))) {
            ++pos;
        }
        return pos;
    }

    size_t lex_number(size_t pos) {
        size_t end = scan_digits(pos);
        bool is_float = false;
        if (end + 1 < src_.size() && src_[end] == '.' && is_digit(src_[end + 1])) {
            end = scan_digits(end + 1);
            is_float = true;
        }
        if (end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
            size_t p = end + 1;
            if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
            if (p < src_.size() && is_digit(src_[p])) {
                end = scan_digits(p);
                is_float = true;
            }
        }
        std::string text = src_.substr(pos, end - pos);
        text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
        push(is_float ? TokenType::Float : TokenType::Int, std::move(text), pos);
        return end;
    }

    // Python string-literal escapes, as Jinja2 decodes them.
    size_t lex_string(size_t pos) {
        const char quote = src_[pos];
        std::string out;
        size_t p = pos + 1;
        while (true) {
            if (p >= src_.size()) fail(pos, "unterminated string");
            const char c = src_[p];
            if (c == quote) break;
            if (c != '\\' || p + 1 >= src_.size()) {
                out.push_back(c);
                ++p;
                continue;
            }
            p = decode_escape(p + 1, out);
        }
        push(TokenType::String, std::move(out), pos);
        return p + 1;
    }

    // Python's one-character escapes (\n, \t, \\, ...); 0 when `e` is not one of them.
    static char simple_escape(char e) {
        constexpr std::string_view kFrom = "\\'\"abfnrtv";
        constexpr std::string_view kTo = "\\'\"\a\b\f\n\r\t\v";
        const size_t i = kFrom.find(e);
        return i == std::string_view::npos ? '\0' : kTo[i];
    }

    size_t decode_escape(size_t p, std::string& out) const {
        const char e = src_[p];
        if (e == '\n') return p + 1;  // a backslash-newline continues the line
        if (const char simple = simple_escape(e)) {
            out.push_back(simple);
            return p + 1;
        }
        if (e >= '0' && e <= '7') {
            uint32_t cp = 0;
            size_t q = p;
            while (q < p + 3 && q < src_.size() && src_[q] >= '0' && src_[q] <= '7') {
                cp = cp * 8 + static_cast<uint32_t>(src_[q++] - '0');
            }
            utf8::append(out, static_cast<char32_t>(cp));
            return q;
        }
        const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (digits == 0) {
            out.push_back('\\');
            return p;  // unknown escape: keep the backslash, the character follows as text
        }
        uint32_t cp = 0;
        for (size_t i = 1; i <= digits; ++i) {
            const int h = p + i < src_.size() ? hex_value(src_[p + i]) : -1;
            if (h < 0) fail(p - 1, "truncated \\" + std::string(1, e) + " escape in string");
            cp = cp * 16 + static_cast<uint32_t>(h);
        }
        if (cp > 0x10FFFF) fail(p - 1, "illegal Unicode character in string");
        utf8::append(out, static_cast<char32_t>(cp));
        return p + digits + 1;
    }

    std::string src_;
    const std::string& name_;
    LexerOptions options_;
    std::vector<size_t> line_starts_{0};
    std::vector<Token> tokens_;
};

// Jinja2 reads "\r\n" and "\r" as "\n" and drops one trailing newline of the template.
std::string normalize_newlines(const std::string& source) {
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out.push_back(source[i]);
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& name,
                            const LexerOptions& options) {
    return Lexer(normalize_newlines(source), name, options).run();
}

}  // namespace ovllm::jinja
