#include "sampling/sampler.hpp"

#include <algorithm>

#include "sampling/row_math.hpp"
#include "util/error.hpp"

namespace ovllm::sampling {

Sampler::Sampler(uint64_t engine_seed) : engine_rng_(RngState::from_seed(engine_seed)) {}

void Sampler::sample(std::span<float> logits, size_t vocab, std::span<const SamplerRow> rows,
                     SamplerOutput& out) {
    if (vocab == 0 || logits.size() != rows.size() * vocab)
        throw_error("sampler: logits hold {} values, expected {} rows x vocab {}", logits.size(),
                    rows.size(), vocab);
    out.rows.clear();
    out.top.clear();
    for (size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].params == nullptr) throw_error("sampler: row {} has no sampling params", r);
        out.rows.push_back(sample_row(logits.subspan(r * vocab, vocab), rows[r], out));
    }
}

SampledToken Sampler::sample_row(std::span<float> row, const SamplerRow& input,
                                 SamplerOutput& out) {
    const SamplingParams& params = *input.params;
    const bool want_logprobs = params.logprobs.has_value();
    if (want_logprobs) raw_.assign(row.begin(), row.end());

    if (params.allowed_token_ids)
        apply_allowed_token_ids(row, *params.allowed_token_ids, processors_);
    if (!input.bad_words_ids.empty()) apply_bad_words(row, input.bad_words_ids, input.output_ids);
    if (params.min_tokens > 0)
        apply_min_tokens(row, params, input.output_ids.size(), input.eos_ids);
    if (!params.logit_bias.empty()) apply_logit_bias(row, params.logit_bias);
    apply_penalties(row, params, input.prompt_ids, input.output_ids, processors_);

    SampledToken result;
    result.token_id = choose(row, input);
    if (!want_logprobs) return result;
    const std::span<const float> raw(raw_.data(), row.size());
    const float normalizer = log_normalizer(raw);
    result.has_logprobs = true;
    result.chosen = token_logprob(raw, result.token_id, normalizer);
    result.top_offset = static_cast<uint32_t>(out.top.size());
    append_top_logprobs(raw, static_cast<size_t>(std::max(*params.logprobs, 0)), normalizer,
                        top_logprobs_, out.top);
    result.top_count = static_cast<uint32_t>(out.top.size() - result.top_offset);
    return result;
}

int64_t Sampler::choose(std::span<const float> row, const SamplerRow& input) {
    const SamplingParams& params = *input.params;
    if (params.temperature < kGreedyTemperature) return row_argmax(row);
    const double u = next_uniform(input.rng != nullptr ? *input.rng : engine_rng_);
    const KeptSet kept = truncate_row(row, params, truncation_);
    return draw_token(kept, u, truncation_);
}

void validate_for_vocab(const SamplingParams& params, size_t vocab) {
    const auto outside = [vocab](int64_t id) {
        return id < 0 || static_cast<uint64_t>(id) >= vocab;
    };
    for (const auto& [id, bias] : params.logit_bias)
        if (outside(id))
            throw_error("logit_bias has token id {} outside the vocabulary (size {})", id, vocab);
    if (params.allowed_token_ids)
        for (const int64_t id : *params.allowed_token_ids)
            if (outside(id))
                throw_error("allowed_token_ids has token id {} outside the vocabulary (size {})",
                            id, vocab);
    for (const int64_t id : params.stop_token_ids)
        if (outside(id))
            throw_error("stop_token_ids has token id {} outside the vocabulary (size {})", id,
                        vocab);
}

}  // namespace ovllm::sampling
