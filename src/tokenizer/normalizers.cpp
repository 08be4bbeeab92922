#include "tokenizer/normalizers.hpp"

#include <cstdlib>
#include <vector>

#include <utf8proc.h>

#include "tokenizer/pattern.hpp"
#include "util/utf8.hpp"

namespace ovllm::tokenizer {

namespace {

class UnicodeForm final : public Normalizer {
  public:
    UnicodeForm(int options, bool compose_only) : options_(options), compose_only_(compose_only) {}
    void normalize(std::string& text) const override {
        if (text.empty() || unchanged(text)) return;
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
    // True when every character is one no normalization form changes here: ASCII and the CJK
    // Unified Ideographs block (no decompositions, combining class 0, never composed), and for
    // NFC also everything below U+0300 (where the combining marks start).
    bool unchanged(std::string_view text) const {
        const char32_t limit = compose_only_ ? 0x300 : 0x80;
        size_t pos = 0;
        while (pos < text.size()) {
            if (static_cast<unsigned char>(text[pos]) < 0x80) {
                ++pos;
                continue;
            }
            const char32_t cp = utf8::next(text, pos);
            if (cp >= limit && (cp < 0x4E00 || cp > 0x9FFF)) return false;
        }
        return true;
    }

    int options_;
    bool compose_only_;  // NFC: canonical composition only
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
    if (type == "NFC")
        return std::make_unique<UnicodeForm>(UTF8PROC_STABLE | UTF8PROC_COMPOSE, true);
    if (type == "NFD")
        return std::make_unique<UnicodeForm>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE, false);
    if (type == "NFKC") {
        return std::make_unique<UnicodeForm>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT,
                                             false);
    }
    if (type == "NFKD") {
        return std::make_unique<UnicodeForm>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT,
                                             false);
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
