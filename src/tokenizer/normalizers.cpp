#include "tokenizer/normalizers.hpp"

#include <cstdlib>
#include <vector>

#include <utf8proc.h>

#include "tokenizer/pattern.hpp"
#include "tokenizer/utf8.hpp"

namespace ovllm::tokenizer {

namespace {

class UnicodeForm final : public Normalizer {
  public:
    explicit UnicodeForm(int options) : options_(options) {}
    void normalize(std::string& text) const override {
        if (text.empty()) return;
        // ASCII is unchanged by every normalization form.
        bool ascii = true;
        for (const char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
        if (ascii) return;
        utf8proc_uint8_t* result = nullptr;
        const utf8proc_ssize_t n =
            utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                         static_cast<utf8proc_ssize_t>(text.size()), &result,
                         static_cast<utf8proc_option_t>(options_));
        if (n < 0) throw_error("normalizer: {}", utf8proc_errmsg(n));
        text.assign(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
        std::free(result);
    }

  private:
    int options_;
};

class Lowercase final : public Normalizer {
  public:
    void normalize(std::string& text) const override {
        std::string out;
        out.reserve(text.size());
        size_t pos = 0;
        while (pos < text.size()) {
            const char32_t cp = utf8::next(text, pos);
            if (cp == 0x130) {  // İ lowercases to i + combining dot above
                out.append("i\xCC\x87");
                continue;
            }
            utf8::append(out, static_cast<char32_t>(utf8proc_tolower(static_cast<int32_t>(cp))));
        }
        text = std::move(out);
    }
};

class Replace final : public Normalizer {
  public:
    Replace(Pattern pattern, std::string content)
        : pattern_(std::move(pattern)), content_(std::move(content)) {}
    void normalize(std::string& text) const override { pattern_.replace_all(text, content_); }

  private:
    Pattern pattern_;
    std::string content_;
};

class Prepend final : public Normalizer {
  public:
    explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
    void normalize(std::string& text) const override {
        if (!text.empty()) text.insert(0, prefix_);
    }

  private:
    std::string prefix_;
};

class Strip final : public Normalizer {
  public:
    Strip(bool left, bool right) : left_(left), right_(right) {}
    void normalize(std::string& text) const override {
        size_t begin = 0;
        size_t end = text.size();
        if (left_) {
            while (begin < end) {
                size_t pos = begin;
                if (!utf8::is_whitespace(utf8::next(text, pos))) break;
                begin = pos;
            }
        }
        if (right_) {
            while (end > begin) {
                size_t start = end - 1;
                while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
                    --start;
                }
                size_t pos = start;
                if (!utf8::is_whitespace(utf8::next(text, pos))) break;
                end = start;
            }
        }
        text = text.substr(begin, end - begin);
    }

  private:
    bool left_;
    bool right_;
};

class Sequence final : public Normalizer {
  public:
    explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
    void normalize(std::string& text) const override {
        for (const auto& step : steps_) step->normalize(text);
    }

  private:
    std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const Json& node, const JsonPath& at) {
    const std::string type = json_string(node, at, "type");
    if (type == "NFC") return std::make_unique<UnicodeForm>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (type == "NFD") return std::make_unique<UnicodeForm>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    if (type == "NFKC") {
        return std::make_unique<UnicodeForm>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    }
    if (type == "NFKD") {
        return std::make_unique<UnicodeForm>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE |
                                             UTF8PROC_COMPAT);
    }
    if (type == "Lowercase") return std::make_unique<Lowercase>();
    if (type == "Replace") {
        return std::make_unique<Replace>(
            Pattern::from_json(json_member(node, at, "pattern"), at / "pattern"),
            json_string(node, at, "content"));
    }
    if (type == "Prepend") return std::make_unique<Prepend>(json_string(node, at, "prepend"));
    if (type == "Strip") {
        return std::make_unique<Strip>(json_bool_or(node, at, "strip_left", true),
                                       json_bool_or(node, at, "strip_right", true));
    }
    if (type == "Sequence") {
        const Json& list = json_array(node, at, "normalizers");
        std::vector<std::unique_ptr<Normalizer>> steps;
        for (size_t i = 0; i < list.size(); ++i) {
            steps.push_back(make_normalizer(list[i], (at / "normalizers")[i]));
        }
        return std::make_unique<Sequence>(std::move(steps));
    }
    json_fail(at / "type", "unknown normalizer type '" + type + "'");
}

}  // namespace ovllm::tokenizer
