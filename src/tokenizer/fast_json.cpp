#include "tokenizer/fast_json.hpp"

#include <cstdlib>

#include "util/utf8.hpp"

namespace ovllm::tokenizer {

namespace {

class Reader {
  public:
    Reader(std::string_view text, const std::string& file) : text_(text), file_(file) {}

    [[noreturn]] void fail(std::string_view what) const {
        throw_error("{}: invalid JSON at byte {}: {}", file_, pos_, what);
    }

    void skip_space() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
            ++pos_;
        }
    }
    char peek() {
        skip_space();
        if (pos_ >= text_.size()) fail("unexpected end of input");
        return text_[pos_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    bool consume(char c) {
        if (peek() != c) return false;
        ++pos_;
        return true;
    }
    bool at_end() {
        skip_space();
        return pos_ >= text_.size();
    }

    void read_string(std::string& out) {
        expect('"');
        out.clear();
        while (true) {
            const size_t start = pos_;
            while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\\' &&
                   static_cast<unsigned char>(text_[pos_]) >= 0x20) {
                ++pos_;
            }
            out.append(text_.substr(start, pos_ - start));
            if (pos_ >= text_.size()) fail("unterminated string");
            const char c = text_[pos_++];
            if (c == '"') return;
            if (c != '\\') fail("control character in string");
            read_escape(out);
        }
    }

    // A JSON number: integers stay exact, others become double.
    Json read_number() {
        const size_t start = pos_;
        if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
        bool is_float = false;
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && pos_ > start)) {
                is_float = true;
            } else if (c < '0' || c > '9') {
                break;
            }
            ++pos_;
        }
        const std::string number(text_.substr(start, pos_ - start));
        if (number.empty() || number == "-") fail("invalid number");
        char* end = nullptr;
        errno = 0;
        if (!is_float) {
            const long long value = std::strtoll(number.c_str(), &end, 10);
            if (errno == 0 && end == number.c_str() + number.size())
                return Json(static_cast<int64_t>(value));
            errno = 0;
        }
        const double value = std::strtod(number.c_str(), &end);
        if (end != number.c_str() + number.size()) fail("invalid number");
        return Json(value);
    }

    int64_t read_integer() {
        const Json n = read_number();
        if (!n.is_number_integer()) fail("expected an integer");
        return n.get<int64_t>();
    }

    Json read_value(int depth) {
        if (depth > 512) fail("nesting too deep");
        const char c = peek();
        if (c == '{') {
            ++pos_;
            Json object = Json::object();
            if (consume('}')) return object;
            std::string key;
            do {
                read_string(key);
                expect(':');
                object[key] = read_value(depth + 1);
            } while (consume(','));
            expect('}');
            return object;
        }
        if (c == '[') {
            ++pos_;
            Json array = Json::array();
            if (consume(']')) return array;
            do {
                array.push_back(read_value(depth + 1));
            } while (consume(','));
            expect(']');
            return array;
        }
        if (c == '"') {
            std::string s;
            read_string(s);
            return Json(std::move(s));
        }
        if (literal("true")) return Json(true);
        if (literal("false")) return Json(false);
        if (literal("null")) return Json(nullptr);
        if (c == '-' || (c >= '0' && c <= '9')) return read_number();
        fail("unexpected character");
    }

  private:
    bool literal(std::string_view word) {
        if (text_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    unsigned read_hex4() {
        if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
        unsigned value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = text_[pos_++];
            value <<= 4;
            if (c >= '0' && c <= '9') {
                value |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                value |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                value |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                fail("invalid \\u escape");
            }
        }
        return value;
    }

    void read_escape(std::string& out) {
        if (pos_ >= text_.size()) fail("unterminated string");
        const char e = text_[pos_++];
        // JSON's one-character escapes: the escape letter, then what it stands for.
        static constexpr std::string_view kFrom = "\"\\/bfnrt";
        static constexpr std::string_view kTo = "\"\\/\b\f\n\r\t";
        if (const size_t k = kFrom.find(e); k != std::string_view::npos) {
            out.push_back(kTo[k]);
            return;
        }
        if (e != 'u') fail("invalid escape");
        unsigned cp = read_hex4();
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") fail("lone surrogate in \\u escape");
            pos_ += 2;
            const unsigned low = read_hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("invalid surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("lone surrogate in \\u escape");
        }
        utf8::append(out, static_cast<char32_t>(cp));
    }

    std::string_view text_;
    const std::string& file_;
    size_t pos_ = 0;
};

void read_vocab(Reader& r, TokenizerJson& out) {
    out.has_vocab = true;
    r.expect('{');
    if (r.consume('}')) return;
    std::string key;
    do {
        r.read_string(key);
        r.expect(':');
        if (r.peek() == '-' || (r.peek() >= '0' && r.peek() <= '9')) {
            out.vocab.emplace_back(key, r.read_integer());
        } else {
            r.read_value(1);
            out.vocab.emplace_back(key, -1);  // reported by the model as a bad id
        }
    } while (r.consume(','));
    r.expect('}');
}

void read_merges(Reader& r, TokenizerJson& out) {
    out.has_merges = true;
    r.expect('[');
    if (r.consume(']')) return;
    std::string first;
    std::string second;
    do {
        if (r.peek() == '"') {
            r.read_string(first);
            const size_t space = first.find(' ');
            if (space == std::string::npos || first.find(' ', space + 1) != std::string::npos) {
                out.merges.emplace_back(first, kBadMerge);
            } else {
                out.merges.emplace_back(first.substr(0, space), first.substr(space + 1));
            }
            continue;
        }
        const Json value = r.read_value(1);
        if (value.is_array() && value.size() == 2 && value[0].is_string() && value[1].is_string()) {
            out.merges.emplace_back(value[0].get<std::string>(), value[1].get<std::string>());
        } else {
            out.merges.emplace_back(value.dump(), kBadMerge);
        }
    } while (r.consume(','));
    r.expect(']');
}

Json read_model(Reader& r, TokenizerJson& out) {
    if (r.peek() != '{') return r.read_value(1);
    r.expect('{');
    Json model = Json::object();
    if (r.consume('}')) return model;
    std::string key;
    do {
        r.read_string(key);
        r.expect(':');
        if (key == "vocab" && r.peek() == '{') {
            read_vocab(r, out);
        } else if (key == "merges" && r.peek() == '[') {
            read_merges(r, out);
        } else {
            model[key] = r.read_value(2);
        }
    } while (r.consume(','));
    r.expect('}');
    return model;
}

void check_utf8(std::string_view text, const std::string& file) {
    if (const size_t bad = utf8::first_invalid(text); bad != std::string_view::npos) {
        throw_error("{}: invalid JSON at byte {}: not UTF-8", file, bad);
    }
}

}  // namespace

TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& file) {
    check_utf8(text, file);
    Reader r(text, file);
    TokenizerJson out;
    if (r.peek() != '{') {
        out.root = r.read_value(0);
    } else {
        r.expect('{');
        out.root = Json::object();
        if (!r.consume('}')) {
            std::string key;
            do {
                r.read_string(key);
                r.expect(':');
                out.root[key] = key == "model" ? read_model(r, out) : r.read_value(1);
            } while (r.consume(','));
            r.expect('}');
        }
    }
    if (!r.at_end()) r.fail("trailing characters after the document");
    return out;
}

Json parse_json_document(std::string_view text, const std::string& file) {
    check_utf8(text, file);
    Reader r(text, file);
    Json value = r.read_value(0);
    if (!r.at_end()) r.fail("trailing characters after the document");
    return value;
}

}  // namespace ovllm::tokenizer
