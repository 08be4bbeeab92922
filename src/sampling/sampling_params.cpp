// SamplingParams::validate(): one check per field, messages worded like vLLM's so users
// see the same text whichever engine they run.
#include <cmath>
#include <string>

#include "ovllm/sampling_params.hpp"
#include "util/error.hpp"

namespace ovllm {
namespace {

// Python's repr of a float: shortest round-trip digits, and "1.0" rather than "1".
std::string py_float(float value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    std::string text = fmt::format("{}", value);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
}

void check_penalties(const SamplingParams& p) {
    if (!(p.presence_penalty >= -2.0f && p.presence_penalty <= 2.0f))
        throw_error("presence_penalty must be in [-2, 2], got {}", py_float(p.presence_penalty));
    if (!(p.frequency_penalty >= -2.0f && p.frequency_penalty <= 2.0f))
        throw_error("frequency_penalty must be in [-2, 2], got {}", py_float(p.frequency_penalty));
    if (!(p.repetition_penalty > 0.0f) || std::isinf(p.repetition_penalty))
        throw_error("repetition_penalty must be greater than zero, got {}",
                    py_float(p.repetition_penalty));
}

void check_truncation(const SamplingParams& p) {
    if (!(p.temperature >= 0.0f) || std::isinf(p.temperature))
        throw_error("temperature must be non-negative, got {}", py_float(p.temperature));
    if (!(p.top_p > 0.0f && p.top_p <= 1.0f))
        throw_error("top_p must be in (0, 1], got {}", py_float(p.top_p));
    if (p.top_k < -1) throw_error("top_k must be 0 (disable), or at least 1, got {}", p.top_k);
    if (!(p.min_p >= 0.0f && p.min_p <= 1.0f))
        throw_error("min_p must be in [0, 1], got {}", py_float(p.min_p));
}

void check_lengths(const SamplingParams& p) {
    if (p.max_tokens && *p.max_tokens < 1)
        throw_error("max_tokens must be at least 1, got {}", *p.max_tokens);
    if (p.min_tokens < 0)
        throw_error("min_tokens must be greater than or equal to 0, got {}", p.min_tokens);
    if (p.max_tokens && p.min_tokens > *p.max_tokens)
        throw_error("min_tokens must be less than or equal to max_tokens={}, got {}", *p.max_tokens,
                    p.min_tokens);
    if (p.logprobs && *p.logprobs < 0)
        throw_error("logprobs must be non-negative, got {}", *p.logprobs);
    if (p.prompt_logprobs && *p.prompt_logprobs < 0)
        throw_error("prompt_logprobs must be non-negative, got {}", *p.prompt_logprobs);
}

void check_tokens(const SamplingParams& p) {
    for (const std::string& stop : p.stop)
        if (stop.empty()) throw_error("stop cannot contain an empty string");
    for (const int64_t id : p.stop_token_ids)
        if (id < 0) throw_error("stop_token_ids must be non-negative, got {}", id);
    if (p.allowed_token_ids && p.allowed_token_ids->empty())
        throw_error("allowed_token_ids must not be empty when given");
    for (const auto& [id, bias] : p.logit_bias) {
        if (id < 0) throw_error("logit_bias token id must be non-negative, got {}", id);
        if (!std::isfinite(bias))
            throw_error("logit_bias for token {} must be finite, got {}", id, py_float(bias));
    }
}

void check_structured_outputs(const SamplingParams& p) {
    if (!p.structured_outputs) return;
    const StructuredOutputs& so = *p.structured_outputs;
    if (so.forms_set() != 1)
        throw_error(
            "structured_outputs must set exactly one of json, json_object, regex, choice, "
            "grammar, structural_tag; got {}",
            so.forms_set());
    if (so.choice && so.choice->empty())
        throw_error("structured_outputs.choice must list at least one string");
}

}  // namespace

void SamplingParams::validate() const {
    if (n < 1) throw_error("n must be at least 1, got {}", n);
    check_penalties(*this);
    check_truncation(*this);
    check_lengths(*this);
    check_tokens(*this);
    check_structured_outputs(*this);
}

}  // namespace ovllm
