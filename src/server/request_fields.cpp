#include "server/request_fields.hpp"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

namespace ovllm::server {

namespace {

enum Where : unsigned { kCompletions = 1, kChat = 2, kBoth = 3, kResponses = 4 };

// A refused field: accepted only while `neutral` says its value changes nothing.
struct Refusal {
    const char* name;
    unsigned where;
    std::function<bool(const json& value, const json& body)> neutral;
    const char* why;
};

bool is_null(const json& value, const json&) {
    return value.is_null();
}
bool is_false(const json& value, const json&) {
    return value.is_null() || value == false;
}
bool is_one(const json& value, const json&) {
    return value.is_null() || (value.is_number() && value.get<double>() == 1.0);
}
bool is_zero(const json& value, const json&) {
    return value.is_null() || (value.is_number() && value.get<double>() == 0.0);
}
bool is_empty(const json& value, const json&) {
    return value.is_null() || (value.is_structured() && value.empty());
}
bool is_text_or_null(const json& value, const json&) {
    return value.is_null() || value == "disabled";
}
// service_tier only chooses an OpenAI billing tier; "auto" and "default" ask for nothing.
bool is_default_tier(const json& value, const json&) {
    return value.is_null() || value == "auto" || value == "default";
}
// best_of chooses the best of that many samples; equal to n it changes nothing.
bool best_of_is_n(const json& value, const json& body) {
    if (value.is_null()) return true;
    const json n = body.value("n", json(1));
    return value == (n.is_null() ? json(1) : n);
}

// The fields of vLLM's protocol this server refuses (unless at their default).
const std::vector<Refusal>& refusals() {
    static const std::vector<Refusal> table = {
        {"use_beam_search", kBoth, is_false, "beam search is not implemented"},
        {"best_of", kBoth, best_of_is_n,
         "best_of larger than n (sampling extra sequences and keeping the best) is not "
         "implemented"},
        {"length_penalty", kBoth, is_one, "length_penalty applies to beam search only"},
        {"suffix", kCompletions, is_null, "fill-in-the-middle completion is not implemented"},
        {"echo", kChat, is_false, "echo is not supported for chat completions"},
        {"prompt_embeds", kCompletions, is_null, "prompt embeddings are not supported"},
        {"documents", kChat, is_null, "documents (RAG chat templates) are not supported"},
        {"chat_template", kChat, is_null,
         "a chat template in the request is not trusted; start the server with "
         "--chat-template instead"},
        {"mm_processor_kwargs", kChat, is_empty, "this server has no multimodal inputs"},
        {"logits_processors", kBoth, is_empty, "custom logits processors are not supported"},
        {"return_tokens_as_token_ids", kBoth, is_false,
         "logprob tokens as `token_id:N` strings are not implemented (return_token_ids gives "
         "the ids)"},
        {"cache_salt", kBoth, is_null, "cache_salt (prefix cache isolation) is not supported"},
        {"kv_transfer_params", kBoth, is_null, "KV cache transfer is not supported"},
        {"vllm_xargs", kBoth, is_empty, "vllm_xargs (custom extensions) are not supported"},
        {"priority", kBoth, is_zero,
         "priority scheduling is not supported (requests are served first come, first "
         "served)"},
        {"structural_tag", kBoth, is_null,
         "give a structural tag as response_format {\"type\": \"structural_tag\", ...} or "
         "structured_outputs {\"structural_tag\": ...}"},
        {"functions", kChat, is_null,
         "the legacy `functions` field is not supported; send `tools` instead"},
        {"function_call", kChat, is_null,
         "the legacy `function_call` field is not supported; send `tool_choice` instead"},
        // /v1/responses (vLLM's ResponsesRequest). Nothing is stored, so nothing can be
        // continued or fetched later.
        {"previous_response_id", kResponses, is_null,
         "this server keeps no responses (every response is as with store: false); send the "
         "earlier turns in `input` instead"},
        {"conversation", kResponses, is_null,
         "this server keeps no conversations; send the earlier turns in `input` instead"},
        {"previous_input_messages", kResponses, is_null,
         "this server keeps no conversations; send the earlier turns in `input` instead"},
        {"background", kResponses, is_false,
         "background responses need a response store, and this server keeps none"},
        {"tools", kResponses, is_empty, "tools on /v1/responses are not supported yet"},
        {"prompt", kResponses, is_null, "prompt templates are not supported"},
        {"reasoning", kResponses, is_null,
         "reasoning output on /v1/responses is not supported yet"},
        {"max_tool_calls", kResponses, is_null, "this server runs no tools"},
        {"truncation", kResponses, is_text_or_null,
         "truncation \"auto\" (dropping input items to fit the context) is not implemented"},
        {"service_tier", kResponses, is_default_tier, "this server has one service tier"},
        {"enable_response_messages", kResponses, is_false,
         "raw response messages are not supported"},
        {"mm_processor_kwargs", kResponses, is_empty, "this server has no multimodal inputs"},
        {"priority", kResponses, is_zero,
         "priority scheduling is not supported (requests are served first come, first "
         "served)"},
        {"cache_salt", kResponses, is_null, "cache_salt (prefix cache isolation) is not supported"},
    };
    return table;
}

// Fields honoured by the request parsers (openai_requests.cpp).
const std::vector<std::pair<const char*, unsigned>>& honoured() {
    static const std::vector<std::pair<const char*, unsigned>> table = {
        {"model", kBoth},
        {"prompt", kCompletions},
        {"messages", kChat},
        {"n", kBoth},
        {"temperature", kBoth},
        {"top_p", kBoth},
        {"top_k", kBoth},
        {"min_p", kBoth},
        {"presence_penalty", kBoth},
        {"frequency_penalty", kBoth},
        {"repetition_penalty", kBoth},
        {"seed", kBoth},
        {"stop", kBoth},
        {"stop_token_ids", kBoth},
        {"include_stop_str_in_output", kBoth},
        {"ignore_eos", kBoth},
        {"min_tokens", kBoth},
        {"max_tokens", kBoth},
        {"max_completion_tokens", kChat},
        {"skip_special_tokens", kBoth},
        {"spaces_between_special_tokens", kBoth},
        {"logit_bias", kBoth},
        {"allowed_token_ids", kBoth},
        {"bad_words", kBoth},
        {"logprobs", kBoth},
        {"top_logprobs", kChat},
        {"echo", kCompletions},
        {"stream", kBoth},
        {"stream_options", kBoth},
        {"user", kBoth},
        {"add_special_tokens", kBoth},
        {"truncate_prompt_tokens", kBoth},
        {"return_token_ids", kBoth},
        {"prompt_logprobs", kBoth},
        {"request_id", kBoth},
        {"add_generation_prompt", kChat},
        {"continue_final_message", kChat},
        {"chat_template_kwargs", kChat},
        // Tool calling and reasoning (chat_output.hpp): tools reach the template; tool_choice
        // auto needs --enable-auto-tool-choice and --tool-call-parser (else a 400 naming
        // it); required and named functions are constrained by a grammar.
        {"tools", kChat},
        {"tool_choice", kChat},
        {"parallel_tool_calls", kChat},
        {"include_reasoning", kChat},  // false: reasoning_content is left out
        {"reasoning_effort", kChat},   // a chat template variable, as in vLLM
        // Structured output: mapped (or refused by name) by parse_structured_outputs.
        {"response_format", kBoth},
        {"structured_outputs", kBoth},
        {"guided_json", kBoth},
        {"guided_regex", kBoth},
        {"guided_choice", kBoth},
        {"guided_grammar", kBoth},
        {"guided_decoding_backend", kBoth},
        {"guided_whitespace_pattern", kBoth},
        // /v1/responses: parsed by responses_request.cpp. `tool_choice` and
        // `parallel_tool_calls` change nothing while no tools are accepted; `user`,
        // `safety_identifier`, `prompt_cache_key` and `metadata` are echoed, never acted on.
        {"model", kResponses},
        {"input", kResponses},
        {"instructions", kResponses},
        {"max_output_tokens", kResponses},
        {"temperature", kResponses},
        {"top_p", kResponses},
        {"top_k", kResponses},
        {"logit_bias", kResponses},
        {"skip_special_tokens", kResponses},
        {"stream", kResponses},
        {"stream_options", kResponses},
        {"store", kResponses},
        {"text", kResponses},
        {"tool_choice", kResponses},
        {"parallel_tool_calls", kResponses},
        {"metadata", kResponses},
        {"user", kResponses},
        {"safety_identifier", kResponses},
        {"prompt_cache_key", kResponses},
        {"request_id", kResponses},
        {"include", kResponses},
        {"top_logprobs", kResponses},
    };
    return table;
}

unsigned bit(Endpoint endpoint) {
    switch (endpoint) {
        case Endpoint::completions:
            return kCompletions;
        case Endpoint::chat:
            return kChat;
        case Endpoint::responses:
            return kResponses;
    }
    return 0;
}

[[noreturn]] void refuse(const std::string& field, const std::string& why) {
    throw bad_request(fmt::format("{} is not supported: {}.", field, why), field);
}

}  // namespace

std::vector<std::string> check_request_fields(const json& body, Endpoint endpoint) {
    std::vector<std::string> unknown;
    for (const auto& item : body.items()) {
        // Named copies rather than a structured binding: clang before 16 cannot capture one.
        const std::string& key = item.key();
        const json& value = item.value();
        const auto refusal =
            std::find_if(refusals().begin(), refusals().end(), [&](const Refusal& entry) {
                return key == entry.name && (entry.where & bit(endpoint));
            });
        if (refusal != refusals().end()) {
            if (!refusal->neutral(value, body)) refuse(key, refusal->why);
            continue;
        }
        const bool known =
            std::any_of(honoured().begin(), honoured().end(), [&](const auto& entry) {
                return key == entry.first && (entry.second & bit(endpoint));
            });
        if (!known) unknown.push_back(key);
    }
    return unknown;
}

std::vector<std::string> known_request_fields(Endpoint endpoint) {
    std::vector<std::string> names;
    for (const auto& [name, where] : honoured()) {
        if (where & bit(endpoint)) names.emplace_back(name);
    }
    for (const Refusal& entry : refusals()) {
        if (entry.where & bit(endpoint)) names.emplace_back(entry.name);
    }
    return names;
}

}  // namespace ovllm::server
