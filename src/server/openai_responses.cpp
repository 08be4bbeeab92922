#include "server/openai_responses.hpp"

#include <algorithm>

namespace ovllm::server {

json usage_json(const Usage& usage) {
    return {{"prompt_tokens", usage.prompt_tokens},
            {"completion_tokens", usage.completion_tokens},
            {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", usage.cached_tokens}}}};
}

namespace {

// -inf has no JSON spelling; a very small finite value stands in for it.
double finite_logprob(float logprob) {
    return std::max(static_cast<double>(logprob), -9999.0);
}

json utf8_bytes(const std::string& text) {
    json bytes = json::array();
    for (const unsigned char c : text) bytes.push_back(static_cast<int>(c));
    return bytes;
}

}  // namespace

json completion_logprobs_json(const std::vector<PositionLogprobs>& logprobs, size_t text_offset) {
    json tokens = json::array(), token_logprobs = json::array(), top = json::array(),
         offsets = json::array();
    for (const PositionLogprobs& position : logprobs) {
        tokens.push_back(position.chosen.decoded_token);
        token_logprobs.push_back(finite_logprob(position.chosen.logprob));
        json candidates = json::object();
        for (const TokenLogprob& candidate : position.top) {
            candidates[candidate.decoded_token] = finite_logprob(candidate.logprob);
        }
        candidates[position.chosen.decoded_token] = finite_logprob(position.chosen.logprob);
        top.push_back(std::move(candidates));
        offsets.push_back(text_offset);
        text_offset += position.chosen.decoded_token.size();
    }
    return {{"tokens", std::move(tokens)},
            {"token_logprobs", std::move(token_logprobs)},
            {"top_logprobs", std::move(top)},
            {"text_offset", std::move(offsets)}};
}

json prompt_logprobs_json(const std::vector<PositionLogprobs>& logprobs) {
    json list = json::array({nullptr});
    const auto entry = [](const TokenLogprob& token) {
        return json{{"logprob", finite_logprob(token.logprob)},
                    {"rank", token.rank},
                    {"decoded_token", token.decoded_token}};
    };
    for (const PositionLogprobs& position : logprobs) {
        json tokens = json::object();
        for (const TokenLogprob& candidate : position.top) {
            tokens[std::to_string(candidate.token_id)] = entry(candidate);
        }
        tokens[std::to_string(position.chosen.token_id)] = entry(position.chosen);
        list.push_back(std::move(tokens));
    }
    return list;
}

json chat_logprobs_json(const std::vector<PositionLogprobs>& logprobs, int top_logprobs) {
    json content = json::array();
    for (const PositionLogprobs& position : logprobs) {
        json top = json::array();
        const size_t count = std::min(position.top.size(), static_cast<size_t>(top_logprobs));
        for (size_t i = 0; i < count; ++i) {
            const TokenLogprob& candidate = position.top[i];
            top.push_back({{"token", candidate.decoded_token},
                           {"logprob", finite_logprob(candidate.logprob)},
                           {"bytes", utf8_bytes(candidate.decoded_token)}});
        }
        content.push_back({{"token", position.chosen.decoded_token},
                           {"logprob", finite_logprob(position.chosen.logprob)},
                           {"bytes", utf8_bytes(position.chosen.decoded_token)},
                           {"top_logprobs", std::move(top)}});
    }
    return {{"content", std::move(content)}};
}

namespace {

json finish_json(const std::optional<std::string>& finish_reason) {
    return finish_reason ? json(*finish_reason) : json(nullptr);
}

// vLLM's return_token_ids fields, present only when asked for.
json with_token_ids(json choice, const ChoiceUpdate& update) {
    if (!update.prompt_token_ids.is_null()) choice["prompt_token_ids"] = update.prompt_token_ids;
    if (!update.token_ids.is_null()) choice["token_ids"] = update.token_ids;
    return choice;
}

}  // namespace

json completion_choice_json(const ChoiceUpdate& choice) {
    return with_token_ids({{"index", choice.index},
                           {"text", choice.text},
                           {"logprobs", choice.logprobs},
                           {"finish_reason", finish_json(choice.finish_reason)},
                           {"stop_reason", choice.stop_reason}},
                          choice);
}

namespace {

// The message of a choice whose text went through the parsers (vLLM's field names).
json parsed_message_json(const ChatParts& parts) {
    return {{"role", "assistant"},
            {"content", parts.content ? json(*parts.content) : json(nullptr)},
            {"reasoning_content", parts.reasoning ? json(*parts.reasoning) : json(nullptr)},
            {"tool_calls", parts.tool_calls}};
}

// A delta carries only the fields it has.
json parsed_delta_json(const ChatParts& parts, json delta) {
    if (parts.reasoning) delta["reasoning_content"] = *parts.reasoning;
    if (parts.content) delta["content"] = *parts.content;
    if (!parts.tool_calls.empty()) delta["tool_calls"] = parts.tool_calls;
    return delta;
}

}  // namespace

json chat_message_choice_json(const ChoiceUpdate& choice) {
    json message =
        choice.parts
            ? parsed_message_json(*choice.parts)
            : json{{"role", "assistant"}, {"content", choice.text}, {"tool_calls", json::array()}};
    return with_token_ids({{"index", choice.index},
                           {"message", std::move(message)},
                           {"logprobs", choice.logprobs},
                           {"finish_reason", finish_json(choice.finish_reason)},
                           {"stop_reason", choice.stop_reason}},
                          choice);
}

json chat_delta_choice_json(const ChoiceUpdate& choice, bool with_role) {
    json delta = json::object();
    if (with_role) delta["role"] = "assistant";
    if (choice.parts)
        delta = parsed_delta_json(*choice.parts, std::move(delta));
    else
        delta["content"] = choice.text;
    return with_token_ids({{"index", choice.index},
                           {"delta", std::move(delta)},
                           {"logprobs", choice.logprobs},
                           {"finish_reason", finish_json(choice.finish_reason)},
                           {"stop_reason", choice.stop_reason}},
                          choice);
}

json response_json(std::string_view id, std::string_view object, int64_t created,
                   std::string_view model, json choices, const std::optional<Usage>& usage) {
    json response = {{"id", id},
                     {"object", object},
                     {"created", created},
                     {"model", model},
                     {"choices", std::move(choices)}};
    if (usage) response["usage"] = usage_json(*usage);
    return response;
}

}  // namespace ovllm::server
