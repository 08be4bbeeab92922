#include "sampling/stop_checker.hpp"

#include <algorithm>

namespace ovllm::sampling {

std::string_view to_string(FinishReason reason) {
    switch (reason) {
        case FinishReason::stop:
            return "stop";
        case FinishReason::length:
            return "length";
        case FinishReason::none:
            break;
    }
    return "";
}

StopChecker::StopChecker(const SamplingParams& params, std::span<const int64_t> eos_ids,
                         size_t max_model_len)
    : params_(&params), eos_ids_(eos_ids.begin(), eos_ids.end()), max_model_len_(max_model_len) {
    for (const std::string& stop : params.stop)
        max_stop_len_ = std::max(max_stop_len_, stop.size());
    if (max_stop_len_ > 0 && !params.include_stop_str_in_output) max_hold_back_ = max_stop_len_ - 1;
}

StopStatus StopChecker::check_token(int64_t token, size_t num_output, size_t num_total) const {
    const SamplingParams& params = *params_;
    StopStatus status;
    const bool at_max_tokens =
        params.max_tokens && num_output >= static_cast<size_t>(std::max(*params.max_tokens, 0));
    if (num_total >= max_model_len_ || at_max_tokens) {
        status.reason = FinishReason::length;
        return status;
    }
    if (num_output < static_cast<size_t>(std::max(params.min_tokens, 0))) return status;
    const auto contains = [token](std::span<const int64_t> ids) {
        return std::find(ids.begin(), ids.end(), token) != ids.end();
    };
    if (!params.ignore_eos && contains(eos_ids_)) {
        status.reason = FinishReason::stop;
    } else if (contains(params.stop_token_ids)) {
        status.reason = FinishReason::stop;
        status.stop_token = token;
    }
    return status;
}

StopStatus StopChecker::check_text(std::string& text, size_t delta_bytes) const {
    StopStatus status;
    if (delta_bytes == 0 || max_stop_len_ == 0) return status;
    delta_bytes = std::min(delta_bytes, text.size());
    size_t best = std::string::npos;
    for (size_t i = 0; i < params_->stop.size(); ++i) {
        const std::string& stop = params_->stop[i];
        // A new match must end inside the delta: start no earlier than this.
        const size_t earliest = text.size() - std::min(text.size(), delta_bytes + stop.size() - 1);
        const size_t found = text.find(stop, earliest);
        if (found != std::string::npos && found < best) {
            best = found;
            status.stop_string = static_cast<int>(i);
        }
    }
    if (best == std::string::npos) return status;
    status.reason = FinishReason::stop;
    const size_t cut = params_->include_stop_str_in_output
                           ? best + params_->stop[static_cast<size_t>(status.stop_string)].size()
                           : best;
    text.resize(std::min(cut, text.size()));
    return status;
}

size_t StopChecker::emittable_bytes(std::string_view text, bool finished) const {
    if (finished || max_hold_back_ == 0) return text.size();
    size_t held = 0;
    const size_t longest = std::min(max_hold_back_, text.size());
    for (const std::string& stop : params_->stop) {
        // Longest tail of `text` that is a proper prefix of `stop`.
        for (size_t len = std::min(longest, stop.size() - 1); len > held; --len) {
            if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
                held = len;
                break;
            }
        }
    }
    return text.size() - held;
}

}  // namespace ovllm::sampling
