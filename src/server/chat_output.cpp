#include "server/chat_output.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "output_parsers/tool_choice.hpp"
#include "structured_output/schema_check.hpp"
#include "util/error.hpp"

namespace ovllm::server {
namespace {

using Tools = ChatOutputPlan::Tools;

json call_json(const parsers::ToolCall& call) {
    return {{"id", call.id},
            {"type", "function"},
            {"function", {{"name", call.name}, {"arguments", call.arguments}}}};
}

json calls_json(std::vector<parsers::ToolCall> calls, bool parallel) {
    // parallel_tool_calls false: the first call only, as vLLM does.
    if (!parallel && calls.size() > 1) calls.resize(1);
    json list = json::array();
    for (const parsers::ToolCall& call : calls) list.push_back(call_json(call));
    return list;
}

void append(std::optional<std::string>& to, std::string_view text) {
    if (!to) to.emplace();
    to->append(text);
}

// The schema of a constrained call, checked as response_format schemas are.
std::string constrained_schema(const ChatToolFields& fields, const json& choice) {
    std::string schema;
    try {
        schema = parsers::tool_choice_schema(fields.tools, choice);
    } catch (const Error& e) {
        throw bad_request(e.what(), "tool_choice");
    }
    if (choice == "required" && !fields.parallel_tool_calls) {
        json one = json::parse(schema);
        one["maxItems"] = 1;
        schema = one.dump();
    }
    try {
        structured::check_json_schema(schema);
    } catch (const Error& e) {
        throw bad_request(fmt::format("tools: a function's parameters: {}", e.what()), "tools");
    }
    return schema;
}

}  // namespace

void check_chat_parser_options(const ChatParserOptions& options) {
    if (!options.tool_call_parser.empty())
        parsers::ToolCallParser::create(options.tool_call_parser);
    if (!options.reasoning_parser.empty())
        parsers::ReasoningParser::create(options.reasoning_parser);
    if (options.enable_auto_tool_choice && options.tool_call_parser.empty())
        throw_error(
            "--enable-auto-tool-choice needs --tool-call-parser NAME (hermes, llama3_json, "
            "mistral or pythonic)");
}

ChatOutputPlan plan_chat_output(const ChatParserOptions& options, const ChatToolFields& fields,
                                SamplingParams& params) {
    ChatOutputPlan plan;
    plan.tool_call_parser = options.tool_call_parser;
    // A grammar constrains the output from its first token: there is no reasoning to read
    // (vLLM starts the grammar after the reasoning instead; not done here).
    if (!params.structured_outputs) plan.reasoning_parser = options.reasoning_parser;
    plan.parallel_tool_calls = fields.parallel_tool_calls;
    plan.include_reasoning = fields.include_reasoning;
    if (!fields.tools.is_array() || fields.tools.empty()) return plan;
    const json choice = fields.tool_choice.is_null() ? json("auto") : fields.tool_choice;
    if (choice == "none") return plan;
    if (choice == "auto") {
        if (!options.enable_auto_tool_choice || options.tool_call_parser.empty())
            throw bad_request(
                "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser "
                "to be set; send tool_choice \"none\" to get plain text.",
                "tool_choice");
        plan.tools = Tools::parse;
        // [TOOL_CALLS] is a special token: the text must keep it to be parsed.
        if (options.tool_call_parser == "mistral") params.skip_special_tokens = false;
        return plan;
    }
    if (params.structured_outputs)
        throw bad_request(fmt::format("tool_choice {} constrains the output to tool calls; it "
                                      "cannot be combined with response_format or "
                                      "structured_outputs.",
                                      choice.dump()),
                          "tool_choice");
    StructuredOutputs constrained;
    constrained.json = constrained_schema(fields, choice);
    params.structured_outputs = std::move(constrained);
    plan.reasoning_parser.clear();
    plan.tools = choice.is_string() ? Tools::required : Tools::named;
    plan.tool_choice = choice;
    return plan;
}

bool prompt_opens_think(std::string_view prompt) {
    const size_t open = prompt.rfind("<think>");
    if (open == std::string_view::npos) return false;
    const size_t close = prompt.rfind("</think>");
    return close == std::string_view::npos || close < open;
}

ChatParts parse_chat_output(const ChatOutputPlan& plan, std::string_view text) {
    ChatParts out;
    if (plan.tools == Tools::named || plan.tools == Tools::required) {
        try {
            out.tool_calls =
                calls_json(parsers::calls_from_constrained_output(text, plan.tool_choice),
                           plan.parallel_tool_calls);
        } catch (const Error&) {
            out.content = std::string(text);  // cut off before the JSON closed
        }
        return out;
    }
    std::optional<std::string> content = std::string(text);
    if (!plan.reasoning_parser.empty()) {
        parsers::ReasoningSplit split =
            parsers::ReasoningParser::create(plan.reasoning_parser, plan.prompt_opened_think)
                ->split(text);
        if (plan.include_reasoning) out.reasoning = std::move(split.reasoning);
        content = std::move(split.content);
    }
    if (plan.tools == Tools::parse && content) {
        parsers::ToolCallResult result =
            parsers::ToolCallParser::create(plan.tool_call_parser)->extract(*content);
        if (!result.calls.empty()) {
            out.tool_calls = calls_json(std::move(result.calls), plan.parallel_tool_calls);
            content = std::move(result.content);
        }
    }
    out.content = std::move(content);
    return out;
}

ChatOutputStream::ChatOutputStream(const ChatOutputPlan& plan) : plan_(plan) {
    if (plan.tools == Tools::named || plan.tools == Tools::required) return;
    if (!plan.reasoning_parser.empty())
        reasoning_ =
            parsers::ReasoningParser::create(plan.reasoning_parser, plan.prompt_opened_think);
    if (plan.tools == Tools::parse)
        tools_ = std::make_unique<parsers::ToolCallStream>(
            parsers::ToolCallParser::create(plan.tool_call_parser));
}

ChatParts ChatOutputStream::feed(std::string_view delta) {
    ChatParts out;
    if (plan_.tools == Tools::named) {
        // The output is the arguments object itself: it streams as its fragments.
        std::vector<parsers::ToolCallDelta> calls;
        if (calls_started_ == 0)
            calls.push_back({0, parsers::new_tool_call_id(),
                             plan_.tool_choice["function"]["name"].get<std::string>(), ""});
        if (!delta.empty()) calls.push_back({0, std::nullopt, std::nullopt, std::string(delta)});
        add_calls(out, calls);
        return out;
    }
    if (plan_.tools == Tools::required) {
        constrained_.append(delta);  // a list of calls: read once it is complete
        return out;
    }
    if (!reasoning_) {
        add_content(out, delta);
        return out;
    }
    parsers::ReasoningSplit split = reasoning_->feed(delta);
    if (split.reasoning && plan_.include_reasoning) out.reasoning = std::move(split.reasoning);
    if (split.content) add_content(out, *split.content);
    return out;
}

ChatParts ChatOutputStream::finish() {
    ChatParts out;
    if (plan_.tools == Tools::named) return out;
    if (plan_.tools == Tools::required) {
        const ChatParts whole = parse_chat_output(plan_, constrained_);
        out.content = whole.content;
        for (const json& call : whole.tool_calls) {
            const int index = calls_started_;
            add_calls(out, {{index, call["id"].get<std::string>(),
                             call["function"]["name"].get<std::string>(), ""},
                            {index, std::nullopt, std::nullopt,
                             call["function"]["arguments"].get<std::string>()}});
        }
        return out;
    }
    if (reasoning_) {
        parsers::ReasoningSplit split = reasoning_->finish();
        if (split.reasoning && plan_.include_reasoning) out.reasoning = std::move(split.reasoning);
        if (split.content) add_content(out, *split.content);
    }
    if (tools_) {
        const parsers::ToolStreamDelta delta = tools_->finish();
        if (!delta.content.empty()) append(out.content, delta.content);
        add_calls(out, delta.calls);
    }
    return out;
}

void ChatOutputStream::add_content(ChatParts& out, std::string_view text) {
    if (!tools_) {
        if (!text.empty()) append(out.content, text);
        return;
    }
    const parsers::ToolStreamDelta delta = tools_->feed(text);
    if (!delta.content.empty()) append(out.content, delta.content);
    add_calls(out, delta.calls);
}

void ChatOutputStream::add_calls(ChatParts& out, const std::vector<parsers::ToolCallDelta>& calls) {
    for (const parsers::ToolCallDelta& call : calls) {
        if (!plan_.parallel_tool_calls && call.index > 0) continue;
        json item = {{"index", call.index}};
        if (call.id) {
            item["id"] = *call.id;
            item["type"] = "function";
            item["function"] = {{"name", call.name.value_or("")}, {"arguments", ""}};
            calls_started_ = std::max(calls_started_, call.index + 1);
        } else {
            item["function"] = {{"arguments", call.arguments}};
        }
        out.tool_calls.push_back(std::move(item));
    }
}

std::string chat_finish_reason(const std::string& engine_reason, bool called_tools) {
    return called_tools && engine_reason == "stop" ? "tool_calls" : engine_reason;
}

}  // namespace ovllm::server
