#pragma once
// The OpenAI-compatible wire format: request parsing with field-level validation, response
// and streaming-chunk builders, and errors in the `{"error": {...}}` shape.
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovllm/outputs.hpp"
#include "ovllm/sampling_params.hpp"
#include "server/engine_client.hpp"

namespace ovllm::server {

using nlohmann::json;

// An error answered to the client as-is: HTTP status, OpenAI error type, message and the
// request field it is about (empty = none).
class ApiError : public std::exception {
  public:
    ApiError(int status, std::string type, std::string message, std::string param = {});
    const char* what() const noexcept override { return message_.c_str(); }
    int status() const { return status_; }
    const std::string& type() const { return type_; }
    const std::string& message() const { return message_; }
    const std::string& param() const { return param_; }

  private:
    int status_;
    std::string type_;
    std::string message_;
    std::string param_;
};

ApiError bad_request(std::string message, std::string param = {});  // 400
ApiError not_found(std::string message);                            // 404
ApiError unauthorized();                                            // 401
ApiError service_unavailable(std::string message);                  // 503
ApiError internal_error(std::string message);                       // 500
ApiError model_not_found(std::string_view model);                   // 404, vLLM's text

// {"error": {"message", "type", "param", "code"}}; code is the HTTP status.
json error_json(const ApiError& error);
// Serialises for the wire; invalid UTF-8 in strings becomes U+FFFD instead of throwing.
std::string dump_json(const json& value);
// Parses a request body; malformed JSON or a non-object -> 400.
json parse_json_body(std::string_view body);

struct PromptInput {
    std::string text;                // when the client sent text
    std::vector<int64_t> token_ids;  // when the client sent token ids
    bool is_tokens = false;
};

struct CompletionRequest {
    std::string model;  // empty = the first served name
    std::vector<PromptInput> prompts;
    SamplingParams params;  // max_tokens defaults to 16; nullopt = up to the context limit
    bool echo = false;
    std::optional<int> logprobs;  // top-N per generated token
    bool stream = false;
    bool include_usage = false;
    bool continuous_usage_stats = false;
    std::string user;
};

struct ChatRequest {
    std::string model;
    ChatTemplateRequest chat;  // messages with content flattened to strings
    SamplingParams params;     // max_tokens defaults to nullopt (up to the context limit)
    bool logprobs = false;
    int top_logprobs = 0;
    bool stream = false;
    bool include_usage = false;
    bool continuous_usage_stats = false;
    std::string user;
};

// Largest logprobs / top_logprobs a request may ask for.
inline constexpr int kMaxLogprobs = 20;

CompletionRequest parse_completion_request(const json& body);
ChatRequest parse_chat_request(const json& body);

// Checks that a prompt of `prompt_len` tokens plus `requested` new tokens fits the context
// and returns the number of tokens to generate (400 with vLLM's message otherwise).
int resolve_max_tokens(std::optional<int> requested, int prompt_len, int max_model_len);
// 400 when a prompt token id is outside [0, vocab_size).
void check_token_ids(const std::vector<int64_t>& ids, int vocab_size);

struct Usage {
    int prompt_tokens = 0;
    int completion_tokens = 0;
    int cached_tokens = 0;  // prompt tokens served from the prefix cache
};
json usage_json(const Usage& usage);

// Completions' logprobs object {tokens, token_logprobs, top_logprobs, text_offset}; offsets
// count bytes of the choice's text, starting at `text_offset` (non-zero after an echo).
json completion_logprobs_json(const std::vector<PositionLogprobs>& logprobs, size_t text_offset);
// Chat's logprobs object {content: [{token, logprob, bytes, top_logprobs}]}.
json chat_logprobs_json(const std::vector<PositionLogprobs>& logprobs, int top_logprobs);

// What one choice produced so far (or in one streaming step).
struct ChoiceUpdate {
    int index = 0;
    std::string text;
    json logprobs;  // null or the object built above
    std::optional<std::string> finish_reason;
    json stop_reason;  // null, the stop string, or the stop token id
};

json completion_choice_json(const ChoiceUpdate& choice);
// role is set only on a chat stream's first chunk of each choice.
json chat_message_choice_json(const ChoiceUpdate& choice);
json chat_delta_choice_json(const ChoiceUpdate& choice, bool with_role);

// Envelopes. `object` is "text_completion", "chat.completion" or "chat.completion.chunk".
json response_json(std::string_view id, std::string_view object, int64_t created,
                   std::string_view model, json choices, const std::optional<Usage>& usage);

}  // namespace ovllm::server
