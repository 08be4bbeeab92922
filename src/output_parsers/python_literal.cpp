#include "output_parsers/python_literal.hpp"

#include <cctype>
#include <charconv>

namespace ovllm::parsers {
namespace {

using Json = nlohmann::json;

// Recursive descent over the text; every method returns false (or nullopt) on a mismatch.
class Reader {
  public:
    explicit Reader(std::string_view text) : text_(text) {}

    std::optional<std::vector<PythonCall>> calls() {
        std::vector<PythonCall> out;
        if (!eat('[')) return std::nullopt;
        if (!eat(']')) {
            do {
                auto call = one_call();
                if (!call) return std::nullopt;
                out.push_back(std::move(*call));
            } while (eat(','));
            if (!eat(']')) return std::nullopt;
        }
        skip_space();
        if (pos_ != text_.size() || out.empty()) return std::nullopt;
        return out;
    }

  private:
    void skip_space() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    bool eat(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    std::string identifier() {
        skip_space();
        const size_t start = pos_;
        while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                       text_[pos_] == '_' || text_[pos_] == '.'))
            ++pos_;
        return std::string(text_.substr(start, pos_ - start));
    }

    std::optional<PythonCall> one_call() {
        PythonCall call{identifier(), Json::object()};
        if (call.name.empty() || std::isdigit(static_cast<unsigned char>(call.name[0])) ||
            !eat('('))
            return std::nullopt;
        if (eat(')')) return call;
        do {
            const std::string key = identifier();
            if (key.empty() || !eat('=')) return std::nullopt;
            auto value = literal();
            if (!value) return std::nullopt;
            call.arguments[key] = std::move(*value);
        } while (eat(','));
        if (!eat(')')) return std::nullopt;
        return call;
    }

    std::optional<Json> sequence(char close) {
        Json out = Json::array();
        if (eat(close)) return out;
        do {
            if (eat(close)) return out;  // trailing comma
            auto item = literal();
            if (!item) return std::nullopt;
            out.push_back(std::move(*item));
        } while (eat(','));
        if (!eat(close)) return std::nullopt;
        return out;
    }

    std::optional<Json> dict() {
        Json out = Json::object();
        if (eat('}')) return out;
        do {
            if (eat('}')) return out;
            auto key = literal();
            if (!key || !key->is_string() || !eat(':')) return std::nullopt;
            auto value = literal();
            if (!value) return std::nullopt;
            out[key->get<std::string>()] = std::move(*value);
        } while (eat(','));
        if (!eat('}')) return std::nullopt;
        return out;
    }

    std::optional<Json> string_literal(char quote) {
        std::string out;
        while (pos_ < text_.size() && text_[pos_] != quote) {
            char c = text_[pos_++];
            if (c == '\\' && pos_ < text_.size()) {
                const char e = text_[pos_++];
                switch (e) {
                    case 'n':
                        c = '\n';
                        break;
                    case 't':
                        c = '\t';
                        break;
                    case 'r':
                        c = '\r';
                        break;
                    default:
                        c = e;  // \\, \', \"
                }
            }
            out += c;
        }
        if (pos_ >= text_.size()) return std::nullopt;
        ++pos_;  // closing quote
        return Json(out);
    }

    std::optional<Json> number() {
        const size_t start = pos_;
        while (pos_ < text_.size() &&
               (std::isdigit(static_cast<unsigned char>(text_[pos_])) ||
                std::string_view("+-.eE").find(text_[pos_]) != std::string_view::npos))
            ++pos_;
        const std::string_view digits = text_.substr(start, pos_ - start);
        if (digits.find_first_of(".eE") == std::string_view::npos) {
            int64_t value = 0;
            const auto [end, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), value);
            if (ec == std::errc() && end == digits.data() + digits.size()) return Json(value);
        }
        try {
            size_t used = 0;
            const double value = std::stod(std::string(digits), &used);
            if (used == digits.size()) return Json(value);
        } catch (const std::exception&) {
        }
        return std::nullopt;
    }

    std::optional<Json> literal() {
        skip_space();
        if (pos_ >= text_.size()) return std::nullopt;
        const char c = text_[pos_];
        if (c == '"' || c == '\'') {
            ++pos_;
            return string_literal(c);
        }
        if (c == '[') return ++pos_, sequence(']');
        if (c == '(') return ++pos_, sequence(')');
        if (c == '{') return ++pos_, dict();
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+') return number();
        const std::string word = identifier();
        if (word == "True") return Json(true);
        if (word == "False") return Json(false);
        if (word == "None") return Json(nullptr);
        return std::nullopt;
    }

    std::string_view text_;
    size_t pos_ = 0;
};

}  // namespace

std::optional<std::vector<PythonCall>> parse_python_calls(std::string_view text) {
    return Reader(text).calls();
}

}  // namespace ovllm::parsers
