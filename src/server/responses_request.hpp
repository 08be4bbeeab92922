#pragma once
// The body of POST /v1/responses (OpenAI's Responses API, vLLM's ResponsesRequest): input
// text or message items and `instructions` become chat messages for the model's template;
// max_output_tokens, temperature, top_p (and vLLM's top_k, logit_bias, skip_special_tokens)
// become SamplingParams. Every field is honoured or refused by name (request_fields.cpp).
#include <optional>
#include <string>
#include <vector>

#include "ovllm/sampling_params.hpp"
#include "server/engine_client.hpp"
#include "server/openai_errors.hpp"

namespace ovllm::server {

struct ResponsesRequest {
    std::string model;         // empty = the first served name
    ChatTemplateRequest chat;  // instructions (as a system message), then the input items
    SamplingParams params;     // max_tokens = max_output_tokens; nullopt = up to the context
    // include ["message.output_text.logprobs"]: the top_logprobs most likely tokens (0 to 20)
    // with each output token; params.logprobs is set to the same.
    std::optional<int> logprobs;
    bool stream = false;
    std::string request_id;                   // the response id when given; empty = generated
    std::vector<std::string> ignored_fields;  // not in vLLM's protocol: logged, ignored
    // Request fields the response object repeats (instructions, metadata, user, text,
    // tool_choice, parallel_tool_calls, ...), as the client sent them.
    json echo = json::object();
};

// `defaults`: the server's sampling fields from generation_config.json (temperature, top_p,
// top_k, repetition_penalty, max_tokens), used where the request leaves them out. Throws a
// 400 ApiError naming the field (e.g. `input[1].content[0].type`).
ResponsesRequest parse_responses_request(const json& body, const json& defaults);

}  // namespace ovllm::server
