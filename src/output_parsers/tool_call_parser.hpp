#pragma once
// Tool-call parsers (vLLM's --tool-call-parser): find the function calls in a model's whole
// output and the text around them.
//   hermes       <tool_call>{"name": ..., "arguments": {...}}</tool_call>, repeatable
//                (Qwen2.5 / Qwen3, Hermes); a last unclosed block at the end still counts
//   llama3_json  the output is {"name": ..., "parameters": {...}} objects separated by ";",
//                optionally after <|python_tag|>
//   mistral      [TOOL_CALLS] then a JSON list of {"name", "arguments"} (v3 tokenizers), or
//                [TOOL_CALLS]name[ARGS]{...} repeated (v11+)
//   pythonic     the output is a Python list of calls: [get_weather(city="Paris"), f()]
// Arguments come back as JSON text, as OpenAI's `function.arguments`. Output that does not
// parse as calls is content, unchanged.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovllm::parsers {

struct ToolCall {
    std::string id;  // "call_<24 letters and digits>"; mistral: 9 letters and digits
    std::string name;
    std::string arguments;  // JSON object text
};

struct ToolCallResult {
    std::optional<std::string> content;  // text outside the calls; nullopt when none
    std::vector<ToolCall> calls;
};

// OpenAI's form of a tool call id: "call_" and 24 random letters and digits (vLLM's own,
// "chatcmpl-tool-...", is no better known to clients).
std::string new_tool_call_id();

// Index just past the JSON object or array that opens `text` (strings respected); npos when
// it is not closed yet.
size_t json_value_end(std::string_view text);

// Where a parser's calls sit in the text, for streaming (tool_call_stream.hpp).
struct CallMarkers {
    std::string_view open;                  // calls start at this text, anywhere ("<tool_call>")
    std::string_view close;                 // one call is complete at this text; empty: at the end
    std::vector<std::string_view> leading;  // or: the output opens with one of these ("[")
    // Between open and close is {"name": ..., "arguments": {...}}: the arguments can be
    // streamed as the model writes them.
    bool json_body = false;
};

class ToolCallParser {
  public:
    virtual ~ToolCallParser() = default;
    // Throws ovllm::Error naming the known parsers for an unknown name.
    static std::unique_ptr<ToolCallParser> create(std::string_view name);
    virtual ToolCallResult extract(std::string_view text) const = 0;
    virtual CallMarkers markers() const = 0;
};

}  // namespace ovllm::parsers
