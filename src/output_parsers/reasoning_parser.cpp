#include "output_parsers/reasoning_parser.hpp"

#include "util/error.hpp"

namespace ovllm::parsers {
namespace {

constexpr std::string_view kStart = "<think>";
constexpr std::string_view kEnd = "</think>";

// Length of the longest suffix of `text` that is a proper prefix of `tag`.
size_t partial_tag(std::string_view text, std::string_view tag) {
    for (size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n)
        if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
    return 0;
}

void append(std::optional<std::string>& to, std::string_view text) {
    if (text.empty()) return;
    if (!to) to.emplace();
    to->append(text);
}

}  // namespace

std::unique_ptr<ReasoningParser> ReasoningParser::create(std::string_view name,
                                                         bool prompt_opened_think) {
    if (name == "qwen3")
        return std::unique_ptr<ReasoningParser>(new ReasoningParser(prompt_opened_think));
    if (name == "deepseek_r1") return std::unique_ptr<ReasoningParser>(new ReasoningParser(true));
    throw_error("--reasoning-parser {} is not known; choose qwen3 or deepseek_r1", name);
}

ReasoningParser::ReasoningParser(bool starts_in_reasoning)
    : starts_in_reasoning_(starts_in_reasoning),
      mode_(starts_in_reasoning ? Mode::reasoning : Mode::undecided),
      at_start_(starts_in_reasoning) {}

ReasoningSplit ReasoningParser::split(std::string_view text) const {
    ReasoningSplit out;
    if (!starts_in_reasoning_ && !text.starts_with(kStart)) {
        append(out.content, text);  // thinking was off
        return out;
    }
    if (text.starts_with(kStart)) text.remove_prefix(kStart.size());
    const size_t end = text.find(kEnd);
    if (end == std::string_view::npos) {  // cut off while thinking
        append(out.reasoning, text);
        return out;
    }
    out.reasoning = std::string(text.substr(0, end));
    append(out.content, text.substr(end + kEnd.size()));
    return out;
}

ReasoningSplit ReasoningParser::feed(std::string_view delta) {
    pending_.append(delta);
    return drain(false);
}

ReasoningSplit ReasoningParser::finish() {
    return drain(true);
}

ReasoningSplit ReasoningParser::drain(bool at_end) {
    ReasoningSplit out;
    for (;;) {
        if (mode_ == Mode::content) {
            append(out.content, pending_);
            pending_.clear();
            return out;
        }
        if (mode_ == Mode::undecided) {
            // qwen3: the output opens with <think> (reasoning) or it is all content.
            if (pending_.starts_with(kStart)) {
                pending_.erase(0, kStart.size());
                mode_ = Mode::reasoning;
                continue;
            }
            if (!at_end && std::string_view(kStart).starts_with(pending_)) return out;
            mode_ = Mode::content;
            continue;
        }
        // Reasoning: up to </think>. deepseek_r1 drops a leading <think> (newer templates
        // open it in the prompt, older ones let the model write it).
        if (at_start_) {
            if (pending_.starts_with(kStart)) {
                pending_.erase(0, kStart.size());
            } else if (!at_end && std::string_view(kStart).starts_with(pending_)) {
                return out;  // empty, or a partial <think>: wait for more
            }
            at_start_ = false;
        }
        const size_t end = pending_.find(kEnd);
        if (end != std::string::npos) {
            append(out.reasoning, std::string_view(pending_).substr(0, end));
            pending_.erase(0, end + kEnd.size());
            mode_ = Mode::content;
            continue;
        }
        const size_t keep = at_end ? 0 : partial_tag(pending_, kEnd);
        append(out.reasoning, std::string_view(pending_).substr(0, pending_.size() - keep));
        pending_.erase(0, pending_.size() - keep);
        return out;
    }
}

}  // namespace ovllm::parsers
