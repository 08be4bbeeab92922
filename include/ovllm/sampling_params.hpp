#pragma once
// Per-request sampling settings, with vLLM's field names and defaults.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ovllm {

// What a RequestOutput carries while a request runs (vLLM's RequestOutputKind).
enum class OutputKind {
    cumulative,  // all text and ids so far
    delta,       // only what is new since the last output
    final_only,  // one output, when the request finishes
};

// Constrained decoding (vLLM's StructuredOutputsParams): exactly one form is set. The output
// is then always a string the form accepts, unless max_tokens or a stop string cuts it short.
struct StructuredOutputs {
    std::optional<std::string> json;                 // a JSON Schema, as JSON text
    bool json_object = false;                        // any JSON object
    std::optional<std::string> regex;                // the whole output matches it
    std::optional<std::vector<std::string>> choice;  // the output is one of these strings
    std::optional<std::string> grammar;              // EBNF (xgrammar's GBNF dialect), rule root
    std::optional<std::string> structural_tag;       // xgrammar's structural tag, as JSON text

    // How many forms are set; validate() wants exactly one.
    int forms_set() const {
        return int(json.has_value()) + int(json_object) + int(regex.has_value()) +
               int(choice.has_value()) + int(grammar.has_value()) + int(structural_tag.has_value());
    }
};

struct SamplingParams {
    int n = 1;                        // completions per prompt; they share the prompt's blocks
    float presence_penalty = 0.0f;    // subtracted once per token present in the output
    float frequency_penalty = 0.0f;   // subtracted per occurrence in the output
    float repetition_penalty = 1.0f;  // > 1 discourages tokens in prompt or output
    float temperature = 1.0f;         // 0 = greedy
    float top_p = 1.0f;               // (0, 1]
    int top_k = 0;                    // 0 or -1 = all tokens
    float min_p = 0.0f;               // [0, 1]
    std::optional<uint64_t> seed;     // per-request RNG; same output whatever the batch
    std::vector<std::string> stop;    // stop strings, matched on the detokenized text
    std::vector<int64_t> stop_token_ids;
    bool include_stop_str_in_output = false;
    bool ignore_eos = false;
    std::optional<int> max_tokens = 16;  // nullopt = up to the context limit
    int min_tokens = 0;                  // EOS and stop ids are masked until reached
    std::optional<int> logprobs;         // top-N logprobs per generated token (0 = chosen only)
    // Top-N per prompt token (RequestOutput::prompt_logprobs); such a request skips the
    // prefix cache, since every prompt position's logits are needed.
    std::optional<int> prompt_logprobs;
    bool skip_special_tokens = true;
    bool detokenize = true;  // false: token ids only, no text (stop strings then never match)
    bool spaces_between_special_tokens = true;
    std::map<int64_t, float> logit_bias;                    // token id -> added to its logit
    std::optional<std::vector<int64_t>> allowed_token_ids;  // all others masked
    std::vector<std::string> bad_words;                     // token sequences never completed
    OutputKind output_kind = OutputKind::cumulative;
    std::optional<StructuredOutputs> structured_outputs;  // constrained decoding

    bool greedy() const { return temperature == 0.0f; }
    // Throws ovllm::Error naming the field and its valid range (n < 1, temperature < 0,
    // top_p outside (0, 1], top_k < -1, min_p outside [0, 1], max_tokens < 1, ...).
    void validate() const;
};

}  // namespace ovllm
