#include "tokenizer/pre_tokenizers.hpp"

#include <algorithm>
#include <functional>
#include <optional>

#include <utf8proc.h>

#include "tokenizer/byte_level.hpp"
#include "tokenizer/pattern.hpp"
#include "tokenizer/regex.hpp"
#include "util/utf8.hpp"

namespace ovllm::tokenizer {

namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior parse_behavior(const Json& node, const JsonPath& at, Behavior fallback) {
    const Json* value = json_find(node, "behavior");
    if (value == nullptr) return fallback;
    if (!value->is_string()) json_fail(at / "behavior", "expected a string");
    const std::string name = value->get<std::string>();
    if (name == "Removed") return Behavior::Removed;
    if (name == "Isolated") return Behavior::Isolated;
    if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
    if (name == "MergedWithNext") return Behavior::MergedWithNext;
    if (name == "Contiguous") return Behavior::Contiguous;
    json_fail(at / "behavior", "unknown split behavior '" + name + "'");
}

struct Part {
    uint32_t begin;
    uint32_t end;
    bool is_match;
};

// Cuts `piece` at `matches` as the behaviour says and appends the non-empty parts to `out`.
void cut(std::string_view piece, const std::vector<Span>& matches, Behavior behavior, bool invert,
         std::vector<std::string>& out) {
    std::vector<Part> parts;
    parts.reserve(matches.size() * 2 + 1);
    uint32_t last = 0;
    for (const Span& m : matches) {
        if (m.begin > last) parts.push_back({last, m.begin, invert});
        parts.push_back({m.begin, m.end, !invert});
        last = m.end;
    }
    if (last < piece.size()) parts.push_back({last, static_cast<uint32_t>(piece.size()), invert});

    std::vector<Part> merged;
    merged.reserve(parts.size());
    switch (behavior) {
        case Behavior::Removed:
            for (const Part& p : parts) {
                if (!p.is_match) merged.push_back(p);
            }
            break;
        case Behavior::Isolated:
            merged = parts;
            break;
        case Behavior::MergedWithPrevious: {
            bool previous_match = false;
            for (const Part& p : parts) {
                if (p.is_match && !previous_match && !merged.empty()) {
                    merged.back().end = p.end;
                } else {
                    merged.push_back(p);
                }
                previous_match = p.is_match;
            }
            break;
        }
        case Behavior::MergedWithNext: {
            bool previous_match = false;
            for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
                if (it->is_match && !previous_match && !merged.empty()) {
                    merged.back().begin = it->begin;
                } else {
                    merged.push_back(*it);
                }
                previous_match = it->is_match;
            }
            std::reverse(merged.begin(), merged.end());
            break;
        }
        case Behavior::Contiguous: {
            bool previous_match = false;
            for (const Part& p : parts) {
                if (p.is_match == previous_match && !merged.empty()) {
                    merged.back().end = p.end;
                } else {
                    merged.push_back(p);
                }
                previous_match = p.is_match;
            }
            break;
        }
    }
    for (const Part& p : merged) {
        if (p.end > p.begin) out.emplace_back(piece.substr(p.begin, p.end - p.begin));
    }
}

// Spans of every single character for which `pred` holds.
void char_matches(std::string_view text, const std::function<bool(char32_t)>& pred,
                  std::vector<Span>& out) {
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t start = pos;
        if (pred(utf8::next(text, pos))) {
            out.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(pos)});
        }
    }
}

bool is_punctuation(char32_t cp) {
    if (cp < 0x80)
        return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') ||
               (cp >= '{' && cp <= '~');
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
        case UTF8PROC_CATEGORY_PC:
        case UTF8PROC_CATEGORY_PD:
        case UTF8PROC_CATEGORY_PS:
        case UTF8PROC_CATEGORY_PE:
        case UTF8PROC_CATEGORY_PI:
        case UTF8PROC_CATEGORY_PF:
        case UTF8PROC_CATEGORY_PO:
            return true;
        default:
            return false;
    }
}

// Shared driver: each piece is cut at the spans `find` reports.
class Splitter : public PreTokenizer {
  public:
    void split(std::vector<std::string>& pieces, bool /*at_text_start*/) const override {
        std::vector<std::string> out;
        out.reserve(pieces.size() * 4);
        std::vector<Span> matches;
        for (const std::string& piece : pieces) {
            matches.clear();
            find(piece, matches);
            cut(piece, matches, behavior_, invert_, out);
        }
        pieces = std::move(out);
    }

  protected:
    Splitter(Behavior behavior, bool invert) : behavior_(behavior), invert_(invert) {}
    virtual void find(std::string_view text, std::vector<Span>& out) const = 0;

  private:
    Behavior behavior_;
    bool invert_;
};

class Split final : public Splitter {
  public:
    Split(Pattern pattern, Behavior behavior, bool invert)
        : Splitter(behavior, invert), pattern_(std::move(pattern)) {}

  private:
    void find(std::string_view text, std::vector<Span>& out) const override {
        pattern_.find_all(text, out);
    }
    Pattern pattern_;
};

class CharSplit final : public Splitter {
  public:
    CharSplit(std::function<bool(char32_t)> pred, Behavior behavior)
        : Splitter(behavior, false), pred_(std::move(pred)) {}

  private:
    void find(std::string_view text, std::vector<Span>& out) const override {
        char_matches(text, pred_, out);
    }
    std::function<bool(char32_t)> pred_;
};

class RegexSplit final : public Splitter {
  public:
    RegexSplit(const std::string& pattern, Behavior behavior, bool invert, const std::string& where)
        : Splitter(behavior, invert), regex_(pattern, where) {}

  private:
    void find(std::string_view text, std::vector<Span>& out) const override {
        regex_.find_all(text, out);
    }
    Regex regex_;
};

constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel final : public PreTokenizer {
  public:
    ByteLevel(bool add_prefix_space, bool use_regex, const std::string& where)
        : add_prefix_space_(add_prefix_space) {
        if (use_regex) regex_.emplace(kGpt2Pattern, where);
    }
    void split(std::vector<std::string>& pieces, bool /*at_text_start*/) const override {
        std::vector<std::string> out;
        out.reserve(pieces.size() * 4);
        std::vector<Span> matches;
        std::string prefixed;
        for (const std::string& original : pieces) {
            std::string_view piece = original;
            if (add_prefix_space_ && (piece.empty() || piece[0] != ' ')) {
                prefixed.assign(1, ' ');
                prefixed.append(piece);
                piece = prefixed;
            }
            if (!regex_) {
                byte_level::encode(piece, out.emplace_back());
                continue;
            }
            matches.clear();
            regex_->find_all(piece, matches);
            uint32_t last = 0;
            for (const Span& m : matches) {
                if (m.begin > last)
                    byte_level::encode(piece.substr(last, m.begin - last), out.emplace_back());
                byte_level::encode(piece.substr(m.begin, m.end - m.begin), out.emplace_back());
                last = m.end;
            }
            if (last < piece.size()) byte_level::encode(piece.substr(last), out.emplace_back());
        }
        pieces = std::move(out);
    }

  private:
    bool add_prefix_space_;
    std::optional<Regex> regex_;
};

class Metaspace final : public PreTokenizer {
  public:
    enum class Prepend { Always, First, Never };
    Metaspace(std::string replacement, Prepend prepend, bool split)
        : replacement_(std::move(replacement)), prepend_(prepend), split_(split) {}

    void split(std::vector<std::string>& pieces, bool at_text_start) const override {
        std::vector<std::string> out;
        std::vector<Span> matches;
        for (size_t i = 0; i < pieces.size(); ++i) {
            std::string text;
            for (const char c : pieces[i]) {
                if (c == ' ') {
                    text.append(replacement_);
                } else {
                    text.push_back(c);
                }
            }
            const bool prepend = prepend_ == Prepend::Always ||
                                 (prepend_ == Prepend::First && at_text_start && i == 0);
            if (prepend && text.rfind(replacement_, 0) != 0) text.insert(0, replacement_);
            if (!split_) {
                if (!text.empty()) out.push_back(std::move(text));
                continue;
            }
            matches.clear();
            size_t pos = text.find(replacement_);
            while (pos != std::string::npos && !replacement_.empty()) {
                matches.push_back(
                    {static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + replacement_.size())});
                pos = text.find(replacement_, pos + replacement_.size());
            }
            cut(text, matches, Behavior::MergedWithNext, false, out);
        }
        pieces = std::move(out);
    }

  private:
    std::string replacement_;
    Prepend prepend_;
    bool split_;
};

class Sequence final : public PreTokenizer {
  public:
    explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps)
        : steps_(std::move(steps)) {}
    void split(std::vector<std::string>& pieces, bool at_text_start) const override {
        for (const auto& step : steps_) step->split(pieces, at_text_start);
    }

  private:
    std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

std::unique_ptr<PreTokenizer> make_metaspace(const Json& node, const JsonPath& at) {
    const std::string replacement = json_string_or(node, at, "replacement", "\xE2\x96\x81");
    if (replacement.empty() ||
        utf8::sequence_length(static_cast<unsigned char>(replacement[0])) != replacement.size()) {
        json_fail(at / "replacement", "expected a single character");
    }
    Metaspace::Prepend prepend = json_bool_or(node, at, "add_prefix_space", true)
                                     ? Metaspace::Prepend::Always
                                     : Metaspace::Prepend::Never;
    if (const Json* scheme = json_find(node, "prepend_scheme")) {
        const std::string name = scheme->is_string() ? scheme->get<std::string>() : "";
        if (name == "always") {
            prepend = Metaspace::Prepend::Always;
        } else if (name == "first") {
            prepend = Metaspace::Prepend::First;
        } else if (name == "never") {
            prepend = Metaspace::Prepend::Never;
        } else {
            json_fail(at / "prepend_scheme", "expected \"always\", \"first\" or \"never\"");
        }
    }
    return std::make_unique<Metaspace>(replacement, prepend, json_bool_or(node, at, "split", true));
}

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& node, const JsonPath& at) {
    const std::string type = json_string(node, at, "type");
    if (type == "ByteLevel") {
        return std::make_unique<ByteLevel>(json_bool_or(node, at, "add_prefix_space", true),
                                           json_bool_or(node, at, "use_regex", true), at.str());
    }
    if (type == "Split") {
        return std::make_unique<Split>(
            Pattern::from_json(json_member(node, at, "pattern"), at / "pattern"),
            parse_behavior(node, at, Behavior::Isolated), json_bool_or(node, at, "invert", false));
    }
    if (type == "Digits") {
        const bool individual = json_bool_or(node, at, "individual_digits", false);
        return std::make_unique<CharSplit>([](char32_t c) { return c >= '0' && c <= '9'; },
                                           individual ? Behavior::Isolated : Behavior::Contiguous);
    }
    if (type == "Punctuation") {
        return std::make_unique<CharSplit>(is_punctuation,
                                           parse_behavior(node, at, Behavior::Isolated));
    }
    if (type == "WhitespaceSplit") {
        return std::make_unique<CharSplit>(utf8::is_whitespace, Behavior::Removed);
    }
    if (type == "Whitespace") {
        return std::make_unique<RegexSplit>(R"(\w+|[^\w\s]+)", Behavior::Removed, true, at.str());
    }
    if (type == "Metaspace") return make_metaspace(node, at);
    if (type == "Sequence") {
        const Json& list = json_array(node, at, "pretokenizers");
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (size_t i = 0; i < list.size(); ++i) {
            steps.push_back(make_pre_tokenizer(list[i], (at / "pretokenizers")[i]));
        }
        return std::make_unique<Sequence>(std::move(steps));
    }
    json_fail(at / "type", "unknown pre-tokenizer type '" + type + "'");
}

}  // namespace ovllm::tokenizer
