#include "output_parsers/tool_call_stream.hpp"

namespace ovllm::parsers {
namespace {

constexpr std::string_view kSpace = " \t\r\n";

// Length of the longest suffix of `text` that is a proper prefix of `marker`.
size_t partial_marker(std::string_view text, std::string_view marker) {
    for (size_t n = std::min(text.size(), marker.size() - 1); n > 0; --n)
        if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
    return 0;
}

// The start of a hermes block body, `{"name": "NAME", "arguments": ` followed by `{`, read
// as far as `body` goes.
struct Header {
    enum { wait, no, yes } state = wait;
    std::string name;
    size_t arguments = 0;  // offset of the arguments' `{` in body
};

Header read_header(std::string_view body) {
    size_t at = 0;
    Header header;
    const auto skip_space = [&] {
        at = std::min(body.find_first_not_of(kSpace, at), body.size());
        return at < body.size();
    };
    // Each literal must match in full; a body that ends inside one is still undecided.
    const auto expect = [&](std::string_view literal) {
        if (!skip_space()) return false;
        const std::string_view rest = body.substr(at, literal.size());
        if (!literal.starts_with(rest)) {
            header.state = Header::no;
            return false;
        }
        if (rest.size() < literal.size()) return false;
        at += literal.size();
        return true;
    };
    if (!expect("{") || !expect("\"name\"") || !expect(":") || !expect("\"")) return header;
    const size_t close = body.find_first_of("\"\\", at);
    if (close == std::string_view::npos) return header;
    if (body[close] == '\\') return {Header::no, {}, 0};  // escaped name: sent whole
    header.name = std::string(body.substr(at, close - at));
    at = close + 1;
    if (!expect(",") || !expect("\"arguments\"") || !expect(":") || !skip_space()) return header;
    if (body[at] != '{') return {Header::no, {}, 0};  // arguments as a string: sent whole
    header.state = Header::yes;
    header.arguments = at;
    return header;
}

}  // namespace

ToolCallStream::ToolCallStream(std::unique_ptr<ToolCallParser> parser)
    : parser_(std::move(parser)),
      markers_(parser_->markers()),
      mode_(markers_.open.empty() ? Mode::undecided : Mode::content) {}

ToolStreamDelta ToolCallStream::feed(std::string_view text) {
    ToolStreamDelta out;
    (mode_ == Mode::calls ? calls_ : pending_).append(text);
    if (mode_ == Mode::undecided) decide();
    if (mode_ == Mode::content) scan_content(out);
    if (mode_ == Mode::calls && !markers_.close.empty()) scan_blocks(out, false);
    return out;
}

ToolStreamDelta ToolCallStream::finish() {
    ToolStreamDelta out;
    if (mode_ != Mode::calls) {
        out.content = std::move(pending_);
        pending_.clear();
        return out;
    }
    if (!markers_.close.empty()) {
        scan_blocks(out, true);
    } else {
        for (const ToolCall& call : parser_->extract(calls_).calls) send_whole(out, call);
    }
    if (calls_started_ == 0) out.content += calls_;  // not calls after all: the text as is
    calls_.clear();
    return out;
}

// Parsers whose calls open the output: wait for its first non-space text to decide.
void ToolCallStream::decide() {
    const size_t first = pending_.find_first_not_of(kSpace);
    if (first == std::string::npos) return;
    const std::string_view rest = std::string_view(pending_).substr(first);
    for (const std::string_view mark : markers_.leading) {
        if (rest.starts_with(mark)) {
            mode_ = Mode::calls;
            calls_ = std::move(pending_);
            pending_.clear();
            return;
        }
    }
    for (const std::string_view mark : markers_.leading)
        if (mark.starts_with(rest)) return;  // a partial mark: wait
    mode_ = Mode::content;
}

void ToolCallStream::scan_content(ToolStreamDelta& out) {
    if (markers_.open.empty()) {
        out.content += pending_;
        pending_.clear();
        return;
    }
    const size_t at = pending_.find(markers_.open);
    if (at != std::string::npos) {
        out.content += pending_.substr(0, at);
        calls_ = pending_.substr(at);
        pending_.clear();
        mode_ = Mode::calls;
        return;
    }
    const size_t keep = partial_marker(pending_, markers_.open);
    out.content += pending_.substr(0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
}

// Parsers with open and close markers: each block is one call.
void ToolCallStream::scan_blocks(ToolStreamDelta& out, bool at_end) {
    const std::string_view open = markers_.open, close = markers_.close;
    while (true) {
        if (block_body_ == std::string::npos) {
            const size_t at = calls_.find(open, scan_from_);
            if (at == std::string::npos) return;
            block_body_ = at + open.size();
        }
        const size_t closed = calls_.find(close, block_body_);
        const size_t end = closed == std::string::npos ? calls_.size() : closed;
        if (markers_.json_body && !streaming_) {
            const Header header =
                read_header(std::string_view(calls_).substr(block_body_, end - block_body_));
            if (header.state == Header::yes) {
                start_call(out, new_tool_call_id(), header.name);
                streaming_ = true;
                args_begin_ = args_sent_ = block_body_ + header.arguments;
            }
        }
        if (streaming_) stream_arguments(out, end);
        if (closed == std::string::npos && !at_end) return;
        if (!streaming_) {
            const size_t block = block_body_ - open.size();
            const size_t stop = closed == std::string::npos ? end : closed + close.size();
            const ToolCallResult result = parser_->extract(calls_.substr(block, stop - block));
            if (!result.calls.empty()) send_whole(out, result.calls.front());
        }
        streaming_ = false;
        block_body_ = std::string::npos;
        if (closed == std::string::npos) return;
        scan_from_ = closed + close.size();
    }
}

// Sends the open block's arguments up to `limit` or to the end of their JSON object.
void ToolCallStream::stream_arguments(ToolStreamDelta& out, size_t limit) {
    const std::string_view arguments =
        std::string_view(calls_).substr(args_begin_, limit - args_begin_);
    const size_t end = json_value_end(arguments);
    const size_t stop = args_begin_ + (end == std::string_view::npos ? arguments.size() : end);
    if (stop <= args_sent_) return;
    out.calls.push_back({calls_started_ - 1, std::nullopt, std::nullopt,
                         calls_.substr(args_sent_, stop - args_sent_)});
    args_sent_ = stop;
}

void ToolCallStream::send_whole(ToolStreamDelta& out, const ToolCall& call) {
    start_call(out, call.id, call.name);
    out.calls.push_back({calls_started_ - 1, std::nullopt, std::nullopt, call.arguments});
}

void ToolCallStream::start_call(ToolStreamDelta& out, std::string id, std::string name) {
    out.calls.push_back({calls_started_++, std::move(id), std::move(name), ""});
}

}  // namespace ovllm::parsers
