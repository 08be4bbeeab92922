#include "output_parsers/tool_call_parser.hpp"

#include <random>

#include <nlohmann/json.hpp>

#include "output_parsers/python_literal.hpp"
#include "util/error.hpp"

namespace ovllm::parsers {
namespace {

using Json = nlohmann::json;

std::string random_chars(std::string_view alphabet, size_t count) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
    std::string out;
    for (size_t i = 0; i < count; ++i) out += alphabet[pick(rng)];
    return out;
}

constexpr std::string_view kAlphanumeric =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// Mistral's tokenizer wants 9 letters and digits.
std::string mistral_id() {
    return random_chars(kAlphanumeric, 9);
}

std::string_view trim(std::string_view text) {
    const size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) return {};
    return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

std::optional<std::string> content_of(std::string_view text) {
    if (trim(text).empty()) return std::nullopt;
    return std::string(text);
}

// {"name": ..., "arguments" | "parameters": {...}} -> a call; nullopt for anything else.
std::optional<ToolCall> call_from_json(const Json& value, std::string id) {
    if (!value.is_object() || !value.contains("name") || !value["name"].is_string())
        return std::nullopt;
    const Json* args = value.contains("arguments")    ? &value["arguments"]
                       : value.contains("parameters") ? &value["parameters"]
                                                      : nullptr;
    ToolCall call{std::move(id), value["name"].get<std::string>(), "{}"};
    if (args != nullptr) {
        if (args->is_string())
            call.arguments = args->get<std::string>();  // already JSON text
        else if (args->is_object())
            call.arguments = args->dump();
        else
            return std::nullopt;
    }
    return call;
}

std::optional<Json> parse_json(std::string_view text) {
    Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return std::nullopt;
    return value;
}

ToolCallResult unparsed(std::string_view text) {
    return {content_of(text), {}};
}

class HermesParser : public ToolCallParser {
  public:
    ToolCallResult extract(std::string_view text) const override {
        constexpr std::string_view kOpen = "<tool_call>", kClose = "</tool_call>";
        const size_t first = text.find(kOpen);
        if (first == std::string_view::npos) return unparsed(text);
        ToolCallResult result{content_of(text.substr(0, first)), {}};
        for (size_t at = first; at != std::string_view::npos; at = text.find(kOpen, at)) {
            at += kOpen.size();
            const size_t close = text.find(kClose, at);
            const std::string_view body =
                text.substr(at, close == std::string_view::npos ? text.npos : close - at);
            const auto value = parse_json(trim(body));
            auto call = value ? call_from_json(*value, new_tool_call_id()) : std::nullopt;
            if (!call) return unparsed(text);  // vLLM: a malformed call leaves the text as is
            result.calls.push_back(std::move(*call));
            if (close == std::string_view::npos) break;
            at = close + kClose.size();
        }
        return result;
    }
    CallMarkers markers() const override {
        return {"<tool_call>", "</tool_call>", {}, /*json_body=*/true};
    }
};

class Llama3JsonParser : public ToolCallParser {
  public:
    ToolCallResult extract(std::string_view text) const override {
        std::string_view rest = trim(text);
        constexpr std::string_view kTag = "<|python_tag|>";
        if (rest.starts_with(kTag)) rest = trim(rest.substr(kTag.size()));
        if (!rest.starts_with("{")) return unparsed(text);
        ToolCallResult result;
        // Objects separated by ";": split at each top-level "}" followed by ";".
        while (!rest.empty()) {
            const size_t end = json_value_end(rest);
            if (end == std::string_view::npos) return unparsed(text);
            const auto value = parse_json(rest.substr(0, end));
            auto call = value ? call_from_json(*value, new_tool_call_id()) : std::nullopt;
            if (!call) return unparsed(text);
            result.calls.push_back(std::move(*call));
            rest = trim(rest.substr(end));
            if (rest.starts_with(";"))
                rest = trim(rest.substr(1));
            else if (!rest.empty())
                return unparsed(text);
        }
        return result;
    }
    CallMarkers markers() const override { return {{}, {}, {"{", "<|python_tag|>"}}; }
};

class MistralParser : public ToolCallParser {
  public:
    ToolCallResult extract(std::string_view text) const override {
        constexpr std::string_view kCalls = "[TOOL_CALLS]", kArgs = "[ARGS]";
        const size_t first = text.find(kCalls);
        if (first == std::string_view::npos) return unparsed(text);
        ToolCallResult result{content_of(text.substr(0, first)), {}};
        const std::string_view rest = trim(text.substr(first + kCalls.size()));
        if (rest.starts_with("[")) {  // v3: one JSON list
            const auto value = parse_json(rest);
            if (!value || !value->is_array()) return unparsed(text);
            for (const Json& item : *value) {
                auto call = call_from_json(item, mistral_id());
                if (!call) return unparsed(text);
                result.calls.push_back(std::move(*call));
            }
            return result;
        }
        // v11+: name[ARGS]{...}, each call after its own [TOOL_CALLS].
        size_t at = first;
        while (at != std::string_view::npos) {
            at += kCalls.size();
            const size_t next = text.find(kCalls, at);
            const std::string_view piece =
                text.substr(at, next == text.npos ? text.npos : next - at);
            const size_t args = piece.find(kArgs);
            if (args == std::string_view::npos) return unparsed(text);
            const auto value = parse_json(trim(piece.substr(args + kArgs.size())));
            if (!value || !value->is_object()) return unparsed(text);
            result.calls.push_back(
                {mistral_id(), std::string(trim(piece.substr(0, args))), value->dump()});
            at = next;
        }
        return result;
    }
    CallMarkers markers() const override { return {"[TOOL_CALLS]", {}, {}}; }
};

class PythonicParser : public ToolCallParser {
  public:
    ToolCallResult extract(std::string_view text) const override {
        const auto calls = parse_python_calls(text);
        if (!calls) return unparsed(text);
        ToolCallResult result;
        for (const PythonCall& c : *calls)
            result.calls.push_back({new_tool_call_id(), c.name, c.arguments.dump()});
        return result;
    }
    CallMarkers markers() const override { return {{}, {}, {"["}}; }
};

}  // namespace

size_t json_value_end(std::string_view text) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

std::string new_tool_call_id() {
    return "call_" + random_chars(kAlphanumeric, 24);
}

std::unique_ptr<ToolCallParser> ToolCallParser::create(std::string_view name) {
    if (name == "hermes") return std::make_unique<HermesParser>();
    if (name == "llama3_json") return std::make_unique<Llama3JsonParser>();
    if (name == "mistral") return std::make_unique<MistralParser>();
    if (name == "pythonic") return std::make_unique<PythonicParser>();
    throw_error(
        "--tool-call-parser {} is not known; choose hermes, llama3_json, mistral or pythonic",
        name);
}

}  // namespace ovllm::parsers
