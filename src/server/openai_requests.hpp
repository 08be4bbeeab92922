#pragma once
// OpenAI-compatible request bodies (/v1/completions, /v1/chat/completions): parsing with
// field-level validation into what the engine needs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovllm/sampling_params.hpp"
#include "server/chat_output.hpp"
#include "server/engine_client.hpp"
#include "server/openai_errors.hpp"

namespace ovllm::server {

struct CompletionPrompt {
    std::string text;                // when the client sent text
    std::vector<int64_t> token_ids;  // when the client sent token ids
    bool is_tokens = false;
};

// Fields about serving rather than sampling, shared by both endpoints (vLLM's extensions).
struct RequestExtras {
    bool add_special_tokens = true;             // completions: true (BOS added); chat: false
    std::optional<int> truncate_prompt_tokens;  // keep the last N prompt tokens; -1 = context
    bool return_token_ids = false;              // token_ids per choice, prompt_token_ids
    std::string request_id;                     // response id suffix; empty = generated
    std::vector<std::string> ignored_fields;    // not in vLLM's protocol: logged, ignored
};

struct CompletionRequest {
    std::string model;  // empty = the first served name
    std::vector<CompletionPrompt> prompts;
    SamplingParams params;  // max_tokens defaults to 16; nullopt = up to the context limit
    bool echo = false;
    std::optional<int> logprobs;  // top-N per generated token
    bool stream = false;
    bool include_usage = false;
    bool continuous_usage_stats = false;
    std::string user;
    RequestExtras extras;
};

struct ChatRequest {
    std::string model;
    ChatTemplateRequest chat;    // messages with content flattened to strings
    ChatToolFields tool_fields;  // tools, tool_choice, parallel_tool_calls, include_reasoning
    SamplingParams params;       // max_tokens defaults to nullopt (up to the context limit)
    bool logprobs = false;
    int top_logprobs = 0;
    bool stream = false;
    bool include_usage = false;
    bool continuous_usage_stats = false;
    std::string user;
    RequestExtras extras;  // add_special_tokens defaults to false here
};

// Largest logprobs / top_logprobs a request may ask for.
inline constexpr int kMaxLogprobs = 20;

CompletionRequest parse_completion_request(const json& body);
ChatRequest parse_chat_request(const json& body);
// Puts the tools and the assistant turns' tool-call arguments of `chat` (parsed from
// `raw_body`) in the client's key order, and turns arguments given as JSON text into
// objects, as vLLM hands them to the template (400 naming the field when not JSON).
void keep_client_order(ChatTemplateRequest& chat, std::string_view raw_body);

// Field readers shared with the other endpoints' parsers: absent or null gives nullopt; a
// wrong type or range is a 400 naming the field, in vLLM's words.
[[noreturn]] void wrong_type(std::string_view field, std::string_view expected, const json& value);
std::optional<bool> get_bool(const json& body, const char* name);
std::optional<std::string> get_string(const json& body, const char* name);
// max_tokens-like fields: an integer in [1, INT_MAX].
std::optional<int> parse_max_tokens(const json& body, const char* name);
// The sampling fields of `body` (n, temperature, top_p, top_k, penalties, stop, logit_bias,
// structured output, ...) into `params`; fields absent from `body` keep their value.
void parse_sampling(const json& body, SamplingParams& params);

// Checks that a prompt of `prompt_len` tokens plus `requested` new tokens fits the context
// and returns the number of tokens to generate (400 with vLLM's message otherwise).
int resolve_max_tokens(std::optional<int> requested, int prompt_len, int max_model_len);
// 400 when a prompt token id is outside [0, vocab_size).
void check_token_ids(const std::vector<int64_t>& ids, int vocab_size);

}  // namespace ovllm::server
