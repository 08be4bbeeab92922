#include "tokenizer/decoders.hpp"

#include "tokenizer/byte_level.hpp"
#include "tokenizer/pattern.hpp"
#include "util/utf8.hpp"

namespace ovllm::tokenizer {

int byte_fallback_value(std::string_view token) {
    if (token.size() != 6 || token.substr(0, 3) != "<0x" || token[5] != '>') return -1;
    const auto digit = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    const int high = token[3] == '+' ? 0 : digit(token[3]);  // "+F" parses as a number too
    const int low = digit(token[4]);
    if (high < 0 || low < 0) return -1;
    return high * 16 + low;
}

namespace {

class ByteLevel final : public Decoder {
  public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::string bytes;
        for (const std::string& token : tokens) {
            if (!byte_level::decode(token, bytes)) bytes.append(token);
        }
        std::string text;
        text.reserve(bytes.size());
        utf8::append_lossy(text, bytes);
        tokens.assign(1, std::move(text));
    }
    bool is_byte_level() const override { return true; }
};

// A run of <0xNN> tokens becomes its UTF-8 text, or one U+FFFD per byte when invalid.
class ByteFallback final : public Decoder {
  public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::vector<std::string> out;
        out.reserve(tokens.size());
        std::string run;
        const auto flush = [&] {
            if (run.empty()) return;
            if (utf8::first_invalid(run) == std::string::npos) {
                out.push_back(run);
            } else {
                for (size_t i = 0; i < run.size(); ++i) out.emplace_back(utf8::kReplacement);
            }
            run.clear();
        };
        for (std::string& token : tokens) {
            const int byte = byte_fallback_value(token);
            if (byte >= 0) {
                run.push_back(static_cast<char>(byte));
                continue;
            }
            flush();
            out.push_back(std::move(token));
        }
        flush();
        tokens = std::move(out);
    }
};

class Fuse final : public Decoder {
  public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::string joined;
        for (const std::string& token : tokens) joined.append(token);
        tokens.assign(1, std::move(joined));
    }
};

class Strip final : public Decoder {
  public:
    Strip(char32_t content, size_t start, size_t stop)
        : content_(content), start_(start), stop_(stop) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::string& token : tokens) {
            std::vector<size_t> offsets;  // byte offset of each character, then the size
            for (size_t pos = 0; pos < token.size();) {
                offsets.push_back(pos);
                utf8::next(token, pos);
            }
            const size_t count = offsets.size();
            offsets.push_back(token.size());
            const auto char_at = [&](size_t i) {
                size_t pos = offsets[i];
                return utf8::next(token, pos);
            };
            size_t first = 0;
            while (first < start_ && first < count && char_at(first) == content_) ++first;
            size_t last = count;
            for (size_t i = 0; i < stop_ && last > first && char_at(last - 1) == content_; ++i)
                --last;
            token = token.substr(offsets[first], offsets[last] - offsets[first]);
        }
    }

  private:
    char32_t content_;
    size_t start_;
    size_t stop_;
};

class Replace final : public Decoder {
  public:
    Replace(Pattern pattern, std::string content)
        : pattern_(std::move(pattern)), content_(std::move(content)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::string& token : tokens) pattern_.replace_all(token, content_);
    }

  private:
    Pattern pattern_;
    std::string content_;
};

// Replacement character -> space; the first token loses its leading space unless the
// prepend scheme is "never".
class Metaspace final : public Decoder {
  public:
    Metaspace(std::string replacement, bool strip_first)
        : replacement_(std::move(replacement)), strip_first_(strip_first) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i) {
            std::string& token = tokens[i];
            std::string out;
            size_t pos = 0;
            while (pos < token.size()) {
                if (token.compare(pos, replacement_.size(), replacement_) == 0) {
                    out.push_back(' ');
                    pos += replacement_.size();
                } else {
                    out.push_back(token[pos++]);
                }
            }
            if (i == 0 && strip_first_ && !out.empty() && out[0] == ' ') out.erase(0, 1);
            token = std::move(out);
        }
    }

  private:
    std::string replacement_;
    bool strip_first_;
};

class Sequence final : public Decoder {
  public:
    explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (const auto& step : steps_) step->decode_chain(tokens);
    }

  private:
    std::vector<std::unique_ptr<Decoder>> steps_;
};

size_t count_field(const Json& node, const JsonPath& at, std::string_view key) {
    const Json* value = json_find(node, key);
    if (value == nullptr) return 0;
    const int64_t n = json_int(*value, at / key);
    if (n < 0) json_fail(at / key, "expected a non-negative count");
    return static_cast<size_t>(n);
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Json& node, const JsonPath& at) {
    const std::string type = json_string(node, at, "type");
    if (type == "ByteLevel") return std::make_unique<ByteLevel>();
    if (type == "ByteFallback") return std::make_unique<ByteFallback>();
    if (type == "Fuse") return std::make_unique<Fuse>();
    if (type == "Strip") {
        const std::string content = json_string(node, at, "content");
        size_t pos = 0;
        if (content.empty() ||
            utf8::sequence_length(static_cast<unsigned char>(content[0])) != content.size()) {
            json_fail(at / "content", "expected a single character");
        }
        return std::make_unique<Strip>(utf8::next(content, pos), count_field(node, at, "start"),
                                       count_field(node, at, "stop"));
    }
    if (type == "Replace") {
        return std::make_unique<Replace>(
            Pattern::from_json(json_member(node, at, "pattern"), at / "pattern"),
            json_string(node, at, "content"));
    }
    if (type == "Metaspace") {
        bool strip_first = json_bool_or(node, at, "add_prefix_space", true);
        if (const Json* scheme = json_find(node, "prepend_scheme")) {
            strip_first = !(scheme->is_string() && scheme->get<std::string>() == "never");
        }
        return std::make_unique<Metaspace>(json_string_or(node, at, "replacement", "\xE2\x96\x81"),
                                           strip_first);
    }
    if (type == "Sequence") {
        const Json& list = json_array(node, at, "decoders");
        std::vector<std::unique_ptr<Decoder>> steps;
        for (size_t i = 0; i < list.size(); ++i) {
            steps.push_back(make_decoder(list[i], (at / "decoders")[i]));
        }
        return std::make_unique<Sequence>(std::move(steps));
    }
    json_fail(at / "type", "unknown decoder type '" + type + "'");
}

}  // namespace ovllm::tokenizer
