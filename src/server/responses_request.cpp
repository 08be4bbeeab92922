#include "server/responses_request.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "server/openai_requests.hpp"
#include "server/request_fields.hpp"

namespace ovllm::server {

namespace {

constexpr std::array<std::string_view, 4> kRoles = {"user", "assistant", "system", "developer"};

const json* present(const json& object, const char* name) {
    const auto it = object.find(name);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

// A message's content: a string, or a list of input_text / output_text parts joined with
// newlines (as chat content parts are).
std::string content_text(const json& content, const std::string& name) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) wrong_type(name, "string or list of content parts", content);
    std::string text;
    for (size_t j = 0; j < content.size(); ++j) {
        const json& part = content[j];
        const std::string part_name = fmt::format("{}[{}]", name, j);
        if (!part.is_object()) wrong_type(part_name, "object", part);
        const json* type = present(part, "type");
        if (!type || !type->is_string()) {
            throw bad_request(part_name + ".type: a string type is required.", part_name + ".type");
        }
        if (*type != "input_text" && *type != "output_text") {
            throw bad_request(fmt::format("{}.type: content part type `{}` is not supported; "
                                          "only `input_text` and `output_text` parts are.",
                                          part_name, type->get<std::string>()),
                              part_name + ".type");
        }
        const json* part_text = present(part, "text");
        if (!part_text || !part_text->is_string()) {
            throw bad_request(part_name + ".text: a string is required.", part_name + ".text");
        }
        if (j > 0) text += '\n';
        text += part_text->get<std::string>();
    }
    return text;
}

// One input item as a chat message {role, content}. Only message items are accepted:
// function calls and their outputs wait for tool support, reasoning items for a parser.
json input_message(const json& item, size_t index) {
    const std::string name = fmt::format("input[{}]", index);
    if (!item.is_object()) wrong_type(name, "object", item);
    if (const json* type = present(item, "type"); type && *type != "message") {
        throw bad_request(fmt::format("{}.type: input items of type {} are not supported; only "
                                      "messages are.",
                                      name, type->dump()),
                          name + ".type");
    }
    const json* role = present(item, "role");
    if (!role || !role->is_string() ||
        std::find(kRoles.begin(), kRoles.end(), role->get<std::string>()) == kRoles.end()) {
        throw bad_request(fmt::format("{}.role: expected user, assistant, system or developer, "
                                      "got {}.",
                                      name, role ? role->dump() : "nothing"),
                          name + ".role");
    }
    const json* content = present(item, "content");
    if (!content) {
        throw bad_request(name + ".content: a string or a list of content parts is required.",
                          name + ".content");
    }
    return {{"role", *role}, {"content", content_text(*content, name + ".content")}};
}

json messages_of(const json& body) {
    json messages = json::array();
    if (const json* instructions = present(body, "instructions")) {
        if (!instructions->is_string()) wrong_type("instructions", "string", *instructions);
        messages.push_back({{"role", "system"}, {"content", *instructions}});
    }
    const json* input = present(body, "input");
    if (!input) throw bad_request("input: Field required.", "input");
    if (input->is_string()) {
        messages.push_back({{"role", "user"}, {"content", *input}});
    } else if (input->is_array() && !input->empty()) {
        for (size_t i = 0; i < input->size(); ++i) {
            messages.push_back(input_message((*input)[i], i));
        }
    } else {
        throw bad_request("input: a string or a non-empty list of input items is required.",
                          "input");
    }
    return messages;
}

// text.format as the chat endpoint's response_format: json_schema {name, schema, strict}
// is nested under `json_schema` there. Null when the format is plain text.
json response_format_of(const json& body) {
    const json* text = present(body, "text");
    if (!text) return nullptr;
    if (!text->is_object()) wrong_type("text", "object", *text);
    if (present(*text, "verbosity")) {
        throw bad_request(
            "text.verbosity is not supported: the served model has no verbosity "
            "control.",
            "text.verbosity");
    }
    const json* format = present(*text, "format");
    if (!format) return nullptr;
    if (!format->is_object()) wrong_type("text.format", "object", *format);
    const json type = format->value("type", json());
    if (type == "text") return nullptr;
    if (type == "json_object") return {{"type", "json_object"}};
    if (type == "json_schema") {
        json schema = *format;
        schema.erase("type");
        return {{"type", "json_schema"}, {"json_schema", std::move(schema)}};
    }
    throw bad_request(fmt::format("text.format.type: expected text, json_schema or json_object, "
                                  "got {}.",
                                  type.dump()),
                      "text.format.type");
}

// The sampling fields this endpoint takes, the server's defaults where the request has none.
SamplingParams sampling_of(const json& body, const json& defaults) {
    json fields = json::object();
    for (const char* name :
         {"temperature", "top_p", "top_k", "logit_bias", "skip_special_tokens"}) {
        if (const json* value = present(body, name)) fields[name] = *value;
    }
    for (const char* name : {"temperature", "top_p", "top_k", "repetition_penalty"}) {
        if (!fields.contains(name) && defaults.contains(name)) fields[name] = defaults[name];
    }
    const json response_format = response_format_of(body);
    if (!response_format.is_null()) fields["response_format"] = response_format;
    SamplingParams params;
    try {
        parse_sampling(fields, params);
    } catch (const ApiError& error) {
        // The schema's checks speak of response_format; here the field is text.format.
        if (error.param().rfind("response_format", 0) != 0) throw;
        throw bad_request(error.message(), "text.format");
    }
    params.max_tokens = parse_max_tokens(body, "max_output_tokens");
    if (!params.max_tokens && defaults.contains("max_tokens")) {
        params.max_tokens = parse_max_tokens(defaults, "max_tokens");
    }
    return params;
}

bool parse_stream(const json& body) {
    const bool stream = get_bool(body, "stream").value_or(false);
    const json* options = present(body, "stream_options");
    if (!options) return stream;
    if (!options->is_object()) wrong_type("stream_options", "object", *options);
    if (!stream) {
        throw bad_request("Stream options can only be defined when `stream=True`.",
                          "stream_options");
    }
    if (get_bool(*options, "include_obfuscation").value_or(false)) {
        throw bad_request(
            "stream_options.include_obfuscation is not supported: delta events "
            "carry no obfuscation padding.",
            "stream_options.include_obfuscation");
    }
    return stream;
}

// Fields the response object repeats, checked for their types on the way.
json echo_of(const json& body) {
    json echo = json::object();
    for (const char* name : {"instructions", "user", "safety_identifier", "prompt_cache_key"}) {
        echo[name] = get_string(body, name) ? body[name] : json(nullptr);
    }
    const json* metadata = present(body, "metadata");
    if (metadata && !metadata->is_object()) wrong_type("metadata", "object", *metadata);
    echo["metadata"] = metadata ? *metadata : json(nullptr);
    echo["parallel_tool_calls"] = get_bool(body, "parallel_tool_calls").value_or(true);
    // store: true (OpenAI's default) is accepted, but nothing is kept: the response object
    // says `store: false`, and previous_response_id is refused.
    get_bool(body, "store");
    const json* choice = present(body, "tool_choice");
    if (choice && *choice != "auto" && *choice != "none") {
        throw bad_request(fmt::format("Invalid value for `tool_choice`: {}; with no tools only "
                                      "\"auto\" and \"none\" apply.",
                                      choice->dump()),
                          "tool_choice");
    }
    echo["tool_choice"] = choice ? *choice : json("auto");
    const json* text = present(body, "text");
    echo["text"] = text ? *text : json{{"format", {{"type", "text"}}}};
    return echo;
}

// include ["message.output_text.logprobs"] with top_logprobs: logprobs of the output tokens,
// the only extra output this server has.
std::optional<int> parse_logprobs(const json& body) {
    bool logprobs = false;
    if (const json* include = present(body, "include")) {
        if (!include->is_array()) wrong_type("include", "list of strings", *include);
        for (const json& item : *include) {
            if (item != "message.output_text.logprobs") {
                throw bad_request(fmt::format("include: {} is not available from this server; "
                                              "only \"message.output_text.logprobs\" is.",
                                              item.dump()),
                                  "include");
            }
            logprobs = true;
        }
    }
    const json* top = present(body, "top_logprobs");
    if (top && (!top->is_number_integer() || *top < 0 || *top > kMaxLogprobs)) {
        throw bad_request(fmt::format("top_logprobs must be an integer in [0, {}], got {}.",
                                      kMaxLogprobs, top->dump()),
                          "top_logprobs");
    }
    const int count = top ? top->get<int>() : 0;
    if (count > 0 && !logprobs) {
        throw bad_request("top_logprobs needs include [\"message.output_text.logprobs\"].",
                          "top_logprobs");
    }
    return logprobs ? std::optional<int>(count) : std::nullopt;
}

}  // namespace

ResponsesRequest parse_responses_request(const json& body, const json& defaults) {
    ResponsesRequest request;
    request.ignored_fields = check_request_fields(body, Endpoint::responses);
    request.model = get_string(body, "model").value_or("");
    request.chat.messages = messages_of(body);
    request.params = sampling_of(body, defaults);
    request.logprobs = parse_logprobs(body);
    request.params.logprobs = request.logprobs;
    request.stream = parse_stream(body);
    request.request_id = get_string(body, "request_id").value_or("");
    request.echo = echo_of(body);
    return request;
}

}  // namespace ovllm::server
