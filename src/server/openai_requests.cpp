#include "server/openai_requests.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>

#include <fmt/format.h>

#include "server/request_fields.hpp"
#include "server/structured_request.hpp"

namespace ovllm::server {

namespace {

std::string_view type_name(const json& value) {
    switch (value.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return "boolean";
        case json::value_t::string:
            return "string";
        case json::value_t::array:
            return "array";
        case json::value_t::object:
            return "object";
        case json::value_t::number_float:
            return "number";
        default:
            return "integer";
    }
}

}  // namespace

[[noreturn]] void wrong_type(std::string_view field, std::string_view expected, const json& value) {
    throw bad_request(
        fmt::format("{}: Input should be a valid {}, got {}.", field, expected, type_name(value)),
        std::string(field));
}

namespace {

[[noreturn]] void out_of_range(std::string_view field, std::string_view rule, const json& value) {
    throw bad_request(fmt::format("{} must be {}, got {}.", field, rule, dump_json(value)),
                      std::string(field));
}

// The field's value, or nullptr when it is absent or null (both mean "use the default").
const json* field(const json& body, const char* name) {
    const auto it = body.find(name);
    if (it == body.end() || it->is_null()) return nullptr;
    return &*it;
}

}  // namespace

std::optional<bool> get_bool(const json& body, const char* name) {
    const json* value = field(body, name);
    if (!value) return std::nullopt;
    if (!value->is_boolean()) wrong_type(name, "boolean", *value);
    return value->get<bool>();
}

namespace {

std::optional<int64_t> int_value(const json& value, std::string_view name) {
    if (value.is_number_integer()) {
        if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX)) {
            out_of_range(name, "a 64-bit integer", value);
        }
        return value.get<int64_t>();
    }
    if (value.is_number_float()) {
        // 16.0 is accepted as 16, as lax JSON validators do; 16.5 is not an integer.
        const double number = value.get<double>();
        if (std::trunc(number) == number && std::fabs(number) < 9.0e18) {
            return static_cast<int64_t>(number);
        }
    }
    wrong_type(name, "integer", value);
}

std::optional<int64_t> get_int(const json& body, const char* name) {
    const json* value = field(body, name);
    if (!value) return std::nullopt;
    return int_value(*value, name);
}

// An integer field that must lie in [low, high].
std::optional<int> get_int_in(const json& body, const char* name, int64_t low, int64_t high,
                              std::string_view rule) {
    const auto value = get_int(body, name);
    if (!value) return std::nullopt;
    if (*value < low || *value > high) out_of_range(name, rule, body[name]);
    return static_cast<int>(*value);
}

std::optional<double> get_number(const json& body, const char* name) {
    const json* value = field(body, name);
    if (!value) return std::nullopt;
    if (!value->is_number()) wrong_type(name, "number", *value);
    return value->get<double>();
}

}  // namespace

std::optional<std::string> get_string(const json& body, const char* name) {
    const json* value = field(body, name);
    if (!value) return std::nullopt;
    if (!value->is_string()) wrong_type(name, "string", *value);
    return value->get<std::string>();
}

namespace {

std::vector<int64_t> token_list(const json& value, std::string_view name) {
    if (!value.is_array()) wrong_type(name, "list of integers", value);
    std::vector<int64_t> ids;
    ids.reserve(value.size());
    for (const json& item : value) {
        if (!item.is_number()) wrong_type(name, "list of integers", value);
        ids.push_back(*int_value(item, name));
    }
    return ids;
}

std::vector<std::string> parse_stop(const json& body) {
    const json* value = field(body, "stop");
    if (!value) return {};
    if (value->is_string()) return {value->get<std::string>()};
    if (!value->is_array()) wrong_type("stop", "string or list of strings", *value);
    std::vector<std::string> stops;
    for (const json& item : *value) {
        if (!item.is_string()) wrong_type("stop", "string or list of strings", *value);
        if (item.get_ref<const std::string&>().empty()) {
            throw bad_request("stop: stop strings must not be empty.", "stop");
        }
        stops.push_back(item.get<std::string>());
    }
    return stops;
}

std::map<int64_t, float> parse_logit_bias(const json& body) {
    const json* value = field(body, "logit_bias");
    if (!value) return {};
    if (!value->is_object()) wrong_type("logit_bias", "object", *value);
    std::map<int64_t, float> bias;
    for (const auto& [key, item] : value->items()) {
        int64_t token = 0;
        const auto* end = key.data() + key.size();
        const auto parsed = std::from_chars(key.data(), end, token);
        if (key.empty() || parsed.ec != std::errc() || parsed.ptr != end || token < 0) {
            throw bad_request(
                fmt::format("logit_bias: key `{}` is not a token id (a non-negative integer).",
                            key),
                "logit_bias");
        }
        if (!item.is_number()) wrong_type("logit_bias", "map of numbers", item);
        // Biases are clamped to [-100, 100], as in the OpenAI API.
        bias[token] = static_cast<float>(std::clamp(item.get<double>(), -100.0, 100.0));
    }
    return bias;
}

}  // namespace

// Fields shared by both endpoints, in vLLM's names and ranges.
void parse_sampling(const json& body, SamplingParams& params) {
    if (auto n = get_int_in(body, "n", 1, 128, "in [1, 128]")) params.n = *n;
    if (auto v = get_number(body, "temperature")) {
        if (*v < 0) out_of_range("temperature", "non-negative", body["temperature"]);
        params.temperature = static_cast<float>(*v);
    }
    if (auto v = get_number(body, "top_p")) {
        if (!(*v > 0 && *v <= 1)) out_of_range("top_p", "in (0, 1]", body["top_p"]);
        params.top_p = static_cast<float>(*v);
    }
    if (auto v = get_int_in(body, "top_k", -1, INT_MAX, "-1 (disable), 0 or a positive integer"))
        params.top_k = *v;
    if (auto v = get_number(body, "min_p")) {
        if (*v < 0 || *v > 1) out_of_range("min_p", "in [0, 1]", body["min_p"]);
        params.min_p = static_cast<float>(*v);
    }
    for (const char* name : {"presence_penalty", "frequency_penalty"}) {
        if (auto v = get_number(body, name)) {
            if (*v < -2 || *v > 2) out_of_range(name, "in [-2, 2]", body[name]);
            (name[0] == 'p' ? params.presence_penalty : params.frequency_penalty) =
                static_cast<float>(*v);
        }
    }
    if (auto v = get_number(body, "repetition_penalty")) {
        if (*v <= 0)
            out_of_range("repetition_penalty", "greater than zero", body["repetition_penalty"]);
        params.repetition_penalty = static_cast<float>(*v);
    }
    if (auto v = get_int(body, "seed")) params.seed = static_cast<uint64_t>(*v);
    params.stop = parse_stop(body);
    if (const json* ids = field(body, "stop_token_ids")) {
        params.stop_token_ids = token_list(*ids, "stop_token_ids");
    }
    if (auto v = get_bool(body, "include_stop_str_in_output")) {
        params.include_stop_str_in_output = *v;
    }
    if (auto v = get_bool(body, "ignore_eos")) params.ignore_eos = *v;
    if (auto v = get_int_in(body, "min_tokens", 0, INT_MAX, "non-negative")) params.min_tokens = *v;
    if (auto v = get_bool(body, "skip_special_tokens")) params.skip_special_tokens = *v;
    if (auto v = get_bool(body, "spaces_between_special_tokens")) {
        params.spaces_between_special_tokens = *v;
    }
    params.prompt_logprobs = get_int_in(body, "prompt_logprobs", 0, kMaxLogprobs,
                                        fmt::format("in [0, {}]", kMaxLogprobs));
    params.logit_bias = parse_logit_bias(body);
    params.structured_outputs = parse_structured_outputs(body);
    if (const json* ids = field(body, "allowed_token_ids")) {
        params.allowed_token_ids = token_list(*ids, "allowed_token_ids");
        if (params.allowed_token_ids->empty()) {
            throw bad_request("allowed_token_ids: must not be empty.", "allowed_token_ids");
        }
    }
    if (const json* words = field(body, "bad_words")) {
        if (!words->is_array()) wrong_type("bad_words", "list of strings", *words);
        for (const json& word : *words) {
            if (!word.is_string()) wrong_type("bad_words", "list of strings", *words);
            params.bad_words.push_back(word.get<std::string>());
        }
    }
}

namespace {

// The largest max_tokens any request may give; the context length limits it further.
constexpr int64_t kMaxTokensLimit = INT_MAX;

}  // namespace

std::optional<int> parse_max_tokens(const json& body, const char* name) {
    const auto value = get_int(body, name);
    if (!value) return std::nullopt;
    if (*value < 1) out_of_range(name, "at least 1", body[name]);
    if (*value > kMaxTokensLimit) {
        out_of_range(name,
                     fmt::format("at most {} (and prompt plus {} must fit the context)",
                                 kMaxTokensLimit, name),
                     body[name]);
    }
    return static_cast<int>(*value);
}

namespace {

RequestExtras parse_extras(const json& body, bool add_special_default) {
    RequestExtras extras;
    extras.add_special_tokens = get_bool(body, "add_special_tokens").value_or(add_special_default);
    if (auto v = get_int(body, "truncate_prompt_tokens")) {
        if (*v < -1 || *v == 0 || *v > INT_MAX) {
            out_of_range("truncate_prompt_tokens", "-1 (the context length) or a positive integer",
                         body["truncate_prompt_tokens"]);
        }
        extras.truncate_prompt_tokens = static_cast<int>(*v);
    }
    extras.return_token_ids = get_bool(body, "return_token_ids").value_or(false);
    extras.request_id = get_string(body, "request_id").value_or("");
    return extras;
}

void check_min_tokens(const SamplingParams& params) {
    if (params.max_tokens && params.min_tokens > *params.max_tokens) {
        throw bad_request(fmt::format("min_tokens must be less than or equal to max_tokens={}, "
                                      "got {}.",
                                      *params.max_tokens, params.min_tokens),
                          "min_tokens");
    }
}

struct StreamFlags {
    bool stream = false;
    bool include_usage = false;
    bool continuous_usage_stats = false;
};

StreamFlags parse_stream(const json& body) {
    StreamFlags flags;
    flags.stream = get_bool(body, "stream").value_or(false);
    if (flags.stream && field(body, "prompt_logprobs")) {
        throw bad_request("`prompt_logprobs` are not available when `stream=True`.",
                          "prompt_logprobs");
    }
    const json* options = field(body, "stream_options");
    if (!options) return flags;
    if (!options->is_object()) wrong_type("stream_options", "object", *options);
    if (!flags.stream) {
        throw bad_request("Stream options can only be defined when `stream=True`.",
                          "stream_options");
    }
    flags.include_usage = get_bool(*options, "include_usage").value_or(false);
    flags.continuous_usage_stats = get_bool(*options, "continuous_usage_stats").value_or(false);
    return flags;
}

std::vector<CompletionPrompt> parse_prompts(const json& body) {
    const json* prompt = field(body, "prompt");
    if (!prompt) throw bad_request("prompt: Field required.", "prompt");
    std::vector<CompletionPrompt> prompts;
    if (prompt->is_string()) {
        prompts.push_back({prompt->get<std::string>(), {}, false});
    } else if (!prompt->is_array()) {
        wrong_type("prompt", "string, list of strings or list of token ids", *prompt);
    } else if (prompt->empty()) {
        throw bad_request("prompt: Prompt cannot be empty.", "prompt");
    } else if ((*prompt)[0].is_number()) {
        prompts.push_back({{}, token_list(*prompt, "prompt"), true});
    } else {
        for (const json& item : *prompt) {
            if (item.is_string()) {
                prompts.push_back({item.get<std::string>(), {}, false});
            } else if (item.is_array()) {
                prompts.push_back({{}, token_list(item, "prompt"), true});
            } else {
                wrong_type("prompt", "string, list of strings or list of token ids", *prompt);
            }
        }
    }
    for (const CompletionPrompt& input : prompts) {
        if (input.is_tokens && input.token_ids.empty()) {
            throw bad_request("prompt: Prompt cannot be empty.", "prompt");
        }
    }
    return prompts;
}

// Flattens a message's content to a string: a list of {type: "text"} parts is joined with
// newlines; other part types are refused.
json flatten_content(const json& content, size_t index) {
    const std::string name = fmt::format("messages[{}].content", index);
    if (content.is_null() || content.is_string()) return content;
    if (!content.is_array()) wrong_type(name, "string or list of content parts", content);
    std::string text;
    for (const json& part : content) {
        if (!part.is_object()) wrong_type(name, "list of content parts", content);
        const auto type = get_string(part, "type");
        if (!type) throw bad_request(name + ": every content part needs a `type`.", name);
        if (*type != "text") {
            throw bad_request(fmt::format("{}: content part type `{}` is not supported; only "
                                          "`text` parts are.",
                                          name, *type),
                              name);
        }
        const auto part_text = get_string(part, "text");
        if (!part_text) throw bad_request(name + ": a `text` part needs `text`.", name);
        if (!text.empty()) text += '\n';
        text += *part_text;
    }
    return text;
}

json parse_messages(const json& body) {
    const json* messages = field(body, "messages");
    if (!messages) throw bad_request("messages: Field required.", "messages");
    if (!messages->is_array()) wrong_type("messages", "list of messages", *messages);
    if (messages->empty()) throw bad_request("messages: must not be empty.", "messages");
    json flattened = json::array();
    for (size_t i = 0; i < messages->size(); ++i) {
        const json& message = (*messages)[i];
        const std::string name = fmt::format("messages[{}]", i);
        if (!message.is_object()) wrong_type(name, "object", message);
        const json* role = field(message, "role");
        if (!role || !role->is_string()) {
            throw bad_request(name + ".role: a string role is required.", name + ".role");
        }
        const std::string& role_name = role->get_ref<const std::string&>();
        static const std::vector<std::string> kRoles = {"system", "developer", "user", "assistant",
                                                        "tool"};
        if (std::find(kRoles.begin(), kRoles.end(), role_name) == kRoles.end()) {
            throw bad_request(fmt::format("{}.role: unknown role `{}`; expected system, "
                                          "developer, user, assistant or tool.",
                                          name, role_name),
                              name + ".role");
        }
        const json* content = field(message, "content");
        // Only an assistant turn may have no content (e.g. one that only called tools).
        if (!content && role_name != "assistant") {
            throw bad_request(fmt::format("{}.content: a {} message needs content (a string or "
                                          "a list of text parts), got null.",
                                          name, role_name),
                              name + ".content");
        }
        json copy = message;
        copy["content"] = content ? flatten_content(*content, i) : json(nullptr);
        flattened.push_back(std::move(copy));
    }
    return flattened;
}

// Each tool must be {"type": "function", "function": {"name": ..., "parameters": {...}}}.
void check_tool(const json& tool, size_t index) {
    const std::string name = fmt::format("tools[{}]", index);
    if (!tool.is_object()) wrong_type(name, "object", tool);
    const auto type = get_string(tool, "type");
    if (type != "function") {
        throw bad_request(name + ".type: only \"function\" tools are supported.", name + ".type");
    }
    const json* function = field(tool, "function");
    if (!function || !function->is_object()) {
        throw bad_request(name + ".function: Field required (an object).", name + ".function");
    }
    const json* function_name = field(*function, "name");
    if (!function_name || !function_name->is_string() ||
        function_name->get_ref<const std::string&>().empty()) {
        throw bad_request(name + ".function.name: a non-empty string is required.",
                          name + ".function.name");
    }
    if (const json* parameters = field(*function, "parameters");
        parameters && !parameters->is_object()) {
        wrong_type(name + ".function.parameters", "object", *parameters);
    }
    if (const json* description = field(*function, "description");
        description && !description->is_string()) {
        wrong_type(name + ".function.description", "string", *description);
    }
}

// The tools reach the template; tool_choice is checked for its form here and decided
// against the server's parsers by plan_chat_output (chat_output.hpp).
void parse_tools(const json& body, ChatRequest& request) {
    const json* tools = field(body, "tools");
    if (tools) {
        if (!tools->is_array()) wrong_type("tools", "list of tools", *tools);
        for (size_t i = 0; i < tools->size(); ++i) check_tool((*tools)[i], i);
        request.chat.tools = *tools;
        request.tool_fields.tools = *tools;
    }
    const json* choice = field(body, "tool_choice");
    if (choice && !tools) {
        throw bad_request("When using `tool_choice`, `tools` must be set.", "tool_choice");
    }
    if (choice) {
        const bool named = choice->is_object() && choice->value("type", json()) == "function" &&
                           choice->contains("function") && (*choice)["function"].is_object() &&
                           (*choice)["function"].value("name", json()).is_string();
        if (*choice != "none" && *choice != "auto" && *choice != "required" && !named) {
            throw bad_request(fmt::format("Invalid value for `tool_choice`: {}. Only named tools "
                                          "({{\"type\": \"function\", \"function\": {{\"name\": "
                                          "...}}}}), \"none\", \"auto\" or \"required\" are "
                                          "supported.",
                                          choice->dump()),
                              "tool_choice");
        }
        request.tool_fields.tool_choice = *choice;
    }
    request.tool_fields.parallel_tool_calls = get_bool(body, "parallel_tool_calls").value_or(true);
    request.tool_fields.include_reasoning = get_bool(body, "include_reasoning").value_or(true);
}

}  // namespace

CompletionRequest parse_completion_request(const json& body) {
    CompletionRequest request;
    const std::vector<std::string> ignored = check_request_fields(body, Endpoint::completions);
    request.model = get_string(body, "model").value_or("");
    request.prompts = parse_prompts(body);
    parse_sampling(body, request.params);
    request.params.max_tokens = 16;
    if (body.contains("max_tokens"))
        request.params.max_tokens = parse_max_tokens(body, "max_tokens");
    check_min_tokens(request.params);
    request.echo = get_bool(body, "echo").value_or(false);
    request.logprobs =
        get_int_in(body, "logprobs", 0, kMaxLogprobs, fmt::format("in [0, {}]", kMaxLogprobs));
    if (request.echo && request.logprobs) {
        throw bad_request(
            "`echo` together with `logprobs` is not supported; ask for `prompt_logprobs` to get "
            "the prompt tokens' logprobs.",
            "echo");
    }
    request.extras = parse_extras(body, /*add_special_default=*/true);
    request.extras.ignored_fields = ignored;
    request.params.logprobs = request.logprobs;
    const StreamFlags flags = parse_stream(body);
    request.stream = flags.stream;
    request.include_usage = flags.include_usage;
    request.continuous_usage_stats = flags.continuous_usage_stats;
    request.user = get_string(body, "user").value_or("");
    return request;
}

ChatRequest parse_chat_request(const json& body) {
    ChatRequest request;
    const std::vector<std::string> ignored = check_request_fields(body, Endpoint::chat);
    request.model = get_string(body, "model").value_or("");
    request.chat.messages = parse_messages(body);
    parse_tools(body, request);
    request.chat.add_generation_prompt = get_bool(body, "add_generation_prompt").value_or(true);
    request.chat.continue_final_message = get_bool(body, "continue_final_message").value_or(false);
    if (request.chat.add_generation_prompt && request.chat.continue_final_message) {
        throw bad_request(
            "Cannot set both `continue_final_message` and "
            "`add_generation_prompt` to True.",
            "continue_final_message");
    }
    if (const json* kwargs = field(body, "chat_template_kwargs")) {
        if (!kwargs->is_object()) wrong_type("chat_template_kwargs", "object", *kwargs);
        request.chat.chat_template_kwargs = *kwargs;
    }
    // As vLLM: reasoning_effort reaches the template (gpt-oss style templates read it).
    if (auto effort = get_string(body, "reasoning_effort")) {
        request.chat.chat_template_kwargs["reasoning_effort"] = *effort;
    }
    parse_sampling(body, request.params);
    // max_completion_tokens is the newer name and wins when both are given.
    request.params.max_tokens = parse_max_tokens(body, "max_tokens");
    if (auto v = parse_max_tokens(body, "max_completion_tokens")) request.params.max_tokens = v;
    check_min_tokens(request.params);
    request.logprobs = get_bool(body, "logprobs").value_or(false);
    if (auto top = get_int_in(body, "top_logprobs", 0, kMaxLogprobs,
                              fmt::format("in [0, {}]", kMaxLogprobs))) {
        if (!request.logprobs && *top > 0) {
            throw bad_request("when using `top_logprobs`, `logprobs` must be set to true.",
                              "top_logprobs");
        }
        request.top_logprobs = *top;
    }
    if (request.logprobs) request.params.logprobs = request.top_logprobs;
    const StreamFlags flags = parse_stream(body);
    request.stream = flags.stream;
    request.include_usage = flags.include_usage;
    request.continuous_usage_stats = flags.continuous_usage_stats;
    request.user = get_string(body, "user").value_or("");
    request.extras = parse_extras(body, /*add_special_default=*/false);
    request.extras.ignored_fields = ignored;
    return request;
}

void keep_client_order(ChatTemplateRequest& chat, std::string_view raw_body) {
    using ordered = nlohmann::ordered_json;
    const bool has_calls =
        std::any_of(chat.messages.begin(), chat.messages.end(),
                    [](const ordered& message) { return message.contains("tool_calls"); });
    if (chat.tools.is_null() && !has_calls) return;  // nothing whose order matters
    const ordered body = ordered::parse(raw_body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return;
    if (!chat.tools.is_null() && body.contains("tools")) chat.tools = body["tools"];
    const auto messages = body.find("messages");
    if (messages == body.end() || !messages->is_array()) return;
    for (size_t i = 0; i < messages->size() && i < chat.messages.size(); ++i) {
        const ordered& message = (*messages)[i];
        if (!message.is_object() || !message.contains("tool_calls") ||
            !message["tool_calls"].is_array() || message.value("role", "") != "assistant")
            continue;
        ordered calls = message["tool_calls"];
        for (size_t j = 0; j < calls.size(); ++j) {
            ordered& call = calls[j];
            if (!call.is_object() || !call.contains("function") || !call["function"].is_object())
                continue;
            ordered& arguments = call["function"]["arguments"];
            if (arguments.is_structured()) continue;
            if (!arguments.is_string() || arguments.get_ref<const std::string&>().empty()) {
                arguments = ordered::object();
                continue;
            }
            ordered parsed =
                ordered::parse(arguments.get<std::string>(), nullptr, /*allow_exceptions=*/false);
            if (parsed.is_discarded()) {
                const std::string name =
                    fmt::format("messages[{}].tool_calls[{}].function.arguments", i, j);
                throw bad_request(name + ": not valid JSON.", name);
            }
            arguments = std::move(parsed);
        }
        chat.messages[i]["tool_calls"] = std::move(calls);
    }
}

int resolve_max_tokens(std::optional<int> requested, int prompt_len, int max_model_len) {
    if (!requested) {
        if (prompt_len >= max_model_len) {
            throw bad_request(
                fmt::format("This model's maximum context length is {} tokens. However, you "
                            "requested {} tokens in the messages, Please reduce the length of "
                            "the messages.",
                            max_model_len, prompt_len),
                "messages");
        }
        return max_model_len - prompt_len;
    }
    if (int64_t(prompt_len) + *requested > max_model_len) {
        throw bad_request(
            fmt::format("This model's maximum context length is {} tokens. However, you "
                        "requested {} tokens ({} in the messages, {} in the completion). "
                        "Please reduce the length of the messages or completion.",
                        max_model_len, int64_t(prompt_len) + *requested, prompt_len, *requested),
            "max_tokens");
    }
    return *requested;
}

void check_token_ids(const std::vector<int64_t>& ids, int vocab_size) {
    for (const int64_t id : ids) {
        if (id < 0 || id >= vocab_size) {
            throw bad_request(
                fmt::format("Token id {} is out of vocabulary (vocab size {}).", id, vocab_size),
                "prompt");
        }
    }
}

}  // namespace ovllm::server
