#include "tokenizer/pattern.hpp"

namespace ovllm::tokenizer {

Pattern Pattern::from_json(const Json& node, const JsonPath& at) {
    Pattern pattern;
    if (const Json* literal = json_find(node, "String")) {
        if (!literal->is_string()) json_fail(at / "String", "expected a string");
        pattern.literal_ = literal->get<std::string>();
        return pattern;
    }
    if (const Json* regex = json_find(node, "Regex")) {
        if (!regex->is_string()) json_fail(at / "Regex", "expected a string");
        pattern.regex_.emplace(regex->get<std::string>(), (at / "Regex").str());
        return pattern;
    }
    json_fail(at, "expected {\"String\": ...} or {\"Regex\": ...}");
}

void Pattern::find_all(std::string_view text, std::vector<Span>& out) const {
    if (regex_) {
        regex_->find_all(text, out);
        return;
    }
    if (literal_.empty()) return;
    size_t pos = text.find(literal_);
    while (pos != std::string_view::npos) {
        out.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + literal_.size())});
        pos = text.find(literal_, pos + literal_.size());
    }
}

void Pattern::replace_all(std::string& text, std::string_view content) const {
    std::vector<Span> spans;
    find_all(text, spans);
    if (spans.empty()) return;
    std::string out;
    out.reserve(text.size() + spans.size() * content.size());
    size_t last = 0;
    for (const Span& span : spans) {
        out.append(text, last, span.begin - last);
        out.append(content);
        last = span.end;
    }
    out.append(text, last, std::string::npos);
    text = std::move(out);
}

}  // namespace ovllm::tokenizer
