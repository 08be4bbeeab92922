#pragma once
// OpenAI-compatible response bodies and streaming chunks: choices, logprobs, usage.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovllm/outputs.hpp"
#include "server/chat_output.hpp"
#include "server/openai_errors.hpp"

namespace ovllm::server {

struct Usage {
    int prompt_tokens = 0;
    int completion_tokens = 0;
    int cached_tokens = 0;  // prompt tokens served from the prefix cache
};
json usage_json(const Usage& usage);

// Completions' logprobs object {tokens, token_logprobs, top_logprobs, text_offset}; offsets
// count bytes of the choice's text, starting at `text_offset` (non-zero after an echo).
json completion_logprobs_json(const std::vector<PositionLogprobs>& logprobs, size_t text_offset);
// vLLM's prompt_logprobs list: null for the first prompt token, then per token a map from
// token id (as a string) to {logprob, rank, decoded_token}, holding the top-N and the
// prompt's own token. `logprobs` is RequestOutput::prompt_logprobs.
json prompt_logprobs_json(const std::vector<PositionLogprobs>& logprobs);
// Chat's logprobs object {content: [{token, logprob, bytes, top_logprobs}]}.
json chat_logprobs_json(const std::vector<PositionLogprobs>& logprobs, int top_logprobs);

// What one choice produced so far (or in one streaming step).
struct ChoiceUpdate {
    int index = 0;
    std::string text;
    json logprobs;  // null or the object built above
    std::optional<std::string> finish_reason;
    json stop_reason;       // null, the stop string, or the stop token id
    json token_ids;         // return_token_ids: the choice's new token ids; null = omitted
    json prompt_token_ids;  // completions with return_token_ids; null = omitted
    // Chat with a reasoning or tool-call parser: the parsed fields, sent instead of `text`.
    std::optional<ChatParts> parts;
};

json completion_choice_json(const ChoiceUpdate& choice);
// role is set only on a chat stream's first chunk of each choice.
json chat_message_choice_json(const ChoiceUpdate& choice);
json chat_delta_choice_json(const ChoiceUpdate& choice, bool with_role);

// Envelopes. `object` is "text_completion", "chat.completion" or "chat.completion.chunk".
json response_json(std::string_view id, std::string_view object, int64_t created,
                   std::string_view model, json choices, const std::optional<Usage>& usage);

}  // namespace ovllm::server
