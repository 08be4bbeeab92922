#pragma once
// What the engine hands back for each request: text, ids, finish reason, logprobs, metrics.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ovllm {

struct TokenLogprob {
    int64_t token_id = 0;
    float logprob = 0.0f;
    int rank = 0;               // 1 = most likely
    std::string decoded_token;  // the token's text
};

// One generated token's logprob entry: the chosen token first, then the top-N.
struct PositionLogprobs {
    TokenLogprob chosen;
    std::vector<TokenLogprob> top;
};

struct CompletionOutput {
    int index = 0;                           // 0..n-1
    std::string text;                        // cumulative or delta, per SamplingParams::output_kind
    std::vector<int64_t> token_ids;          // likewise
    std::vector<PositionLogprobs> logprobs;  // empty unless asked for
    double cumulative_logprob = 0.0;
    std::optional<std::string> finish_reason;  // "stop", "length", "abort"; nullopt while running
    // The stop string or stop token id that ended the completion, if any.
    std::optional<std::string> stop_reason_text;
    std::optional<int64_t> stop_reason_token;
};

// Seconds on a steady clock since the engine started.
struct RequestMetrics {
    double arrival_time = 0.0;
    double first_scheduled_time = 0.0;
    double first_token_time = 0.0;
    double last_token_time = 0.0;
    double finished_time = 0.0;
    int num_cached_tokens = 0;  // prompt tokens served from the prefix cache
};

struct RequestOutput {
    std::string request_id;
    // With OutputKind::delta only a request's first output carries the prompt; the others
    // leave these empty.
    std::string prompt;
    std::vector<int64_t> prompt_token_ids;
    // With SamplingParams::prompt_logprobs: entry p is prompt token p + 1 given the tokens
    // before it (the first token has none), `chosen` that token, `top` the top-N; carried
    // with the prompt.
    std::vector<PositionLogprobs> prompt_logprobs;
    std::vector<CompletionOutput> outputs;
    bool finished = false;
    RequestMetrics metrics;
};

}  // namespace ovllm
