#include "output_parsers/tool_choice.hpp"

#include "util/error.hpp"

namespace ovllm::parsers {
namespace {

using Json = nlohmann::json;

struct Function {
    std::string name;
    Json parameters;
};

std::vector<Function> functions_of(const Json& tools) {
    if (!tools.is_array() || tools.empty())
        throw_error("tools must be a non-empty list when tool_choice asks for a call");
    std::vector<Function> out;
    for (size_t i = 0; i < tools.size(); ++i) {
        const std::string at = fmt::format("tools[{}].function", i);
        const Json& tool = tools[i];
        if (!tool.is_object() || !tool.contains("function") || !tool["function"].is_object())
            throw_error("{} must be an object", at);
        const Json& f = tool["function"];
        if (!f.contains("name") || !f["name"].is_string())
            throw_error("{}.name must be a string", at);
        // A function without parameters takes an empty object.
        Json parameters =
            f.value("parameters", Json{{"type", "object"}, {"properties", Json::object()}});
        if (!parameters.is_object()) throw_error("{}.parameters must be a JSON Schema object", at);
        out.push_back({f["name"].get<std::string>(), std::move(parameters)});
    }
    return out;
}

// The function name of a named tool_choice; empty for "required".
std::string named_function(const Json& tool_choice) {
    if (tool_choice.is_string()) {
        if (tool_choice == "required") return {};
        throw_error("tool_choice \"{}\" does not constrain decoding",
                    tool_choice.get<std::string>());
    }
    if (!tool_choice.is_object() || !tool_choice.contains("function") ||
        !tool_choice["function"].is_object() || !tool_choice["function"].contains("name") ||
        !tool_choice["function"]["name"].is_string())
        throw_error("tool_choice.function.name must be a string");
    return tool_choice["function"]["name"].get<std::string>();
}

}  // namespace

std::string tool_choice_schema(const Json& tools, const Json& tool_choice) {
    const std::vector<Function> functions = functions_of(tools);
    const std::string name = named_function(tool_choice);
    if (!name.empty()) {
        for (const Function& f : functions)
            if (f.name == name) return f.parameters.dump();
        throw_error("tool_choice names function '{}', which is not in tools", name);
    }
    Json any_of = Json::array();
    for (const Function& f : functions)
        any_of.push_back(
            {{"type", "object"},
             {"properties", {{"name", {{"enum", {f.name}}}}, {"parameters", f.parameters}}},
             {"required", {"name", "parameters"}}});
    return Json{{"type", "array"}, {"minItems", 1}, {"items", {{"anyOf", any_of}}}}.dump();
}

std::vector<ToolCall> calls_from_constrained_output(std::string_view text,
                                                    const Json& tool_choice) {
    const std::string name = named_function(tool_choice);
    const Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded())
        throw_error("the constrained tool call output is not JSON (cut off by max_tokens?)");
    const auto with_id = [](std::string function, std::string arguments) {
        return ToolCall{new_tool_call_id(), std::move(function), std::move(arguments)};
    };
    if (!name.empty()) return {with_id(name, value.dump())};
    std::vector<ToolCall> calls;
    for (const Json& item : value)
        calls.push_back(with_id(item.at("name").get<std::string>(), item.at("parameters").dump()));
    return calls;
}

}  // namespace ovllm::parsers
