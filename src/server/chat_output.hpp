#pragma once
// A chat completion's text through the reasoning and tool-call parsers (`ovllm serve
// --reasoning-parser NAME --enable-auto-tool-choice --tool-call-parser NAME`), as vLLM's
// server does it: `<think>` blocks become `reasoning_content`, calls become `tool_calls`.
//   tool_choice auto      the tool-call parser reads calls out of the text
//   tool_choice required  decoding is constrained to a JSON list of calls (output_parsers/
//   / named function      tool_choice.hpp); the output is read back as calls
//   tool_choice none      the text is content; no calls
// The reasoning parser runs first; the tool-call parser reads the content after it. Under a
// grammar (required, a named function, response_format, structured_outputs) the output is
// the constrained text from its first token: no reasoning is read.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "output_parsers/reasoning_parser.hpp"
#include "output_parsers/tool_call_stream.hpp"
#include "ovllm/sampling_params.hpp"
#include "server/openai_errors.hpp"

namespace ovllm::server {

// The server's parsers (serve flags); empty names = none.
struct ChatParserOptions {
    bool enable_auto_tool_choice = false;
    std::string tool_call_parser;
    std::string reasoning_parser;
};

// Throws ovllm::Error naming the flag and the known names for an unknown parser, and for
// --enable-auto-tool-choice without --tool-call-parser.
void check_chat_parser_options(const ChatParserOptions& options);

// The request fields that decide what the output is read for.
struct ChatToolFields {
    json tools;        // null or the request's list
    json tool_choice;  // null = "auto" when tools are given, else "none"
    bool parallel_tool_calls = true;
    bool include_reasoning = true;
};

// What one chat request's output is read for.
struct ChatOutputPlan {
    enum class Tools { none, parse, named, required };
    Tools tools = Tools::none;
    json tool_choice;  // named / required: as sent
    std::string tool_call_parser;
    std::string reasoning_parser;  // empty = no reasoning is read
    bool prompt_opened_think = false;
    bool parallel_tool_calls = true;
    bool include_reasoning = true;
    bool active() const { return tools != Tools::none || !reasoning_parser.empty(); }
};

// Decides the plan for a request as vLLM does (400 for tool_choice auto without a parser, a
// named function not in tools, or a constrained call together with another structured
// output form) and sets the grammar of required / named calls into `params`.
ChatOutputPlan plan_chat_output(const ChatParserOptions& options, const ChatToolFields& fields,
                                SamplingParams& params);
// Qwen3 / DeepSeek-R1 templates may open `<think>` in the prompt for the model.
bool prompt_opens_think(std::string_view prompt);

// The message fields of a chat choice, as parsed.
struct ChatParts {
    std::optional<std::string> reasoning;  // reasoning_content; nullopt = none
    std::optional<std::string> content;    // nullopt: null (only calls, or only reasoning)
    json tool_calls = json::array();       // message: whole calls; stream: delta items
};

// The whole output at once (non-streamed responses).
ChatParts parse_chat_output(const ChatOutputPlan& plan, std::string_view text);

// One choice's streamed output: text deltas in, delta fields out.
class ChatOutputStream {
  public:
    explicit ChatOutputStream(const ChatOutputPlan& plan);
    ChatParts feed(std::string_view delta);
    ChatParts finish();
    bool called_tools() const { return calls_started_ > 0; }

  private:
    void add_content(ChatParts& out, std::string_view text);
    void add_calls(ChatParts& out, const std::vector<parsers::ToolCallDelta>& calls);

    const ChatOutputPlan plan_;
    std::unique_ptr<parsers::ReasoningParser> reasoning_;
    std::unique_ptr<parsers::ToolCallStream> tools_;
    std::string constrained_;  // required: the JSON list, read at the end
    int calls_started_ = 0;
};

// A finish reason with tool calls made: vLLM's "tool_calls" when the model stopped by itself.
std::string chat_finish_reason(const std::string& engine_reason, bool called_tools);

}  // namespace ovllm::server
