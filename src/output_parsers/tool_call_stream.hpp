#pragma once
// Tool calls out of a streamed output, as OpenAI streams them: text before the calls goes
// out as content at once; each call goes out as its id and name first, then fragments of its
// arguments that concatenate to the arguments' JSON text.
//   hermes       a call's arguments stream as the model writes them (the block's JSON is
//                {"name": ..., "arguments": {...}} with the name first)
//   other parsers and out-of-order hermes blocks: a call goes out whole once it is complete
//                (hermes: at </tool_call>; the others: at the end of the output)
// Text that turns out not to be calls (malformed) comes out as content at the end, as the
// whole-output parser returns it; a call already sent is not taken back.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "output_parsers/tool_call_parser.hpp"

namespace ovllm::parsers {

struct ToolCallDelta {
    int index = 0;                    // which call, from 0
    std::optional<std::string> id;    // set in a call's first delta, with the name
    std::optional<std::string> name;  // set in a call's first delta
    std::string arguments;            // a fragment of the arguments' JSON text
};

struct ToolStreamDelta {
    std::string content;
    std::vector<ToolCallDelta> calls;  // in order; a call's header comes before its fragments
};

class ToolCallStream {
  public:
    explicit ToolCallStream(std::unique_ptr<ToolCallParser> parser);

    ToolStreamDelta feed(std::string_view text);
    ToolStreamDelta finish();
    int calls_started() const { return calls_started_; }

  private:
    enum class Mode { undecided, content, calls };
    void decide();
    void scan_content(ToolStreamDelta& out);
    void scan_blocks(ToolStreamDelta& out, bool at_end);
    void stream_arguments(ToolStreamDelta& out, size_t limit);
    void send_whole(ToolStreamDelta& out, const ToolCall& call);
    void start_call(ToolStreamDelta& out, std::string id, std::string name);

    std::unique_ptr<ToolCallParser> parser_;
    CallMarkers markers_;
    Mode mode_;
    std::string pending_;   // content not yet sent: may hold the start of a marker
    std::string calls_;     // the output from where the calls start
    size_t scan_from_ = 0;  // in calls_: where the next block's open marker is looked for
    size_t block_body_ = std::string::npos;  // in calls_: the open block's body; npos = none
    // The open block's streamed arguments (hermes): where they begin and how far they went.
    bool streaming_ = false;
    size_t args_begin_ = 0, args_sent_ = 0;
    int calls_started_ = 0;
};

}  // namespace ovllm::parsers
