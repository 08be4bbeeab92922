#pragma once
// Decides, after each generated token, whether a completion is finished and why.
// Token checks run on the new token id; string checks on the detokenized completion text
// (UTF-8 bytes), so a stop string split across several tokens is still found.
//
// Token order (vLLM v1): context limit and max_tokens ("length") first; then, once
// min_tokens are generated, EOS (unless ignore_eos) and stop_token_ids ("stop").
// When a completion ends on an EOS or stop token, that token's text is not part of the
// output unless include_stop_str_in_output (the detokenizer's concern, as in vLLM).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ovllm/sampling_params.hpp"

namespace ovllm::sampling {

enum class FinishReason : uint8_t { none, stop, length };

// "stop" or "length" (vLLM's finish_reason); "" for none.
std::string_view to_string(FinishReason reason);

struct StopStatus {
    FinishReason reason = FinishReason::none;
    std::optional<int64_t> stop_token;  // the stop_token_ids entry that ended it
    int stop_string = -1;               // index into params.stop of the string that ended it

    bool finished() const { return reason != FinishReason::none; }
};

class StopChecker {
  public:
    // `params` must outlive the checker. `max_model_len` bounds prompt + output tokens.
    StopChecker(const SamplingParams& params, std::span<const int64_t> eos_ids,
                size_t max_model_len);

    // After `token` was appended: `num_output` generated tokens, `num_total` with the prompt.
    StopStatus check_token(int64_t token, size_t num_output, size_t num_total) const;

    // After the newest token's text (its last `delta_bytes` bytes) was appended to `text`:
    // finds the stop string that starts earliest in the text, searching only where a new
    // match can be (the delta plus the longest stop string minus one byte before it).
    // On a match, truncates `text` before the stop string (or after it, with
    // include_stop_str_in_output) and returns finish reason "stop".
    StopStatus check_text(std::string& text, size_t delta_bytes) const;

    // How many leading bytes of `text` may be streamed now: all when finished; otherwise
    // all but the longest tail that is a proper prefix of a stop string (it may yet turn
    // into one and be cut). Nothing is held back with include_stop_str_in_output.
    size_t emittable_bytes(std::string_view text, bool finished) const;

    // The longest stop string minus one byte: the most text emittable_bytes() holds back.
    size_t max_hold_back() const { return max_hold_back_; }

  private:
    const SamplingParams* params_;
    std::vector<int64_t> eos_ids_;
    size_t max_model_len_;
    size_t max_stop_len_ = 0;
    size_t max_hold_back_ = 0;
};

}  // namespace ovllm::sampling
