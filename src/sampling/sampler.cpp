#include "sampling/sampler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "sampling/row_math.hpp"
#include "util/error.hpp"

namespace ovllm::sampling {

Sampler::Sampler(uint64_t engine_seed, size_t num_threads)
    : engine_rng_(RngState::from_seed(engine_seed)),
      pool_(std::max<size_t>(num_threads, 1)),
      scratch_(pool_.size()) {}

namespace {

bool is_greedy(const SamplingParams& params) {
    return params.temperature < kGreedyTemperature;
}

size_t top_count(const SamplingParams& params, size_t vocab) {
    return params.logprobs ? std::min(static_cast<size_t>(std::max(*params.logprobs, 0)), vocab)
                           : 0;
}

}  // namespace

void Sampler::sample(std::span<float> logits, size_t vocab, std::span<const SamplerRow> rows,
                     SamplerOutput& out) {
    if (vocab == 0 || logits.size() != rows.size() * vocab)
        throw_error("sampler: logits hold {} values, expected {} rows x vocab {}", logits.size(),
                    rows.size(), vocab);
    row_logits_.resize(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) row_logits_[r] = logits.data() + r * vocab;
    sample(row_logits_, vocab, rows, out);
}

void Sampler::sample(std::span<float* const> row_logits, size_t vocab,
                     std::span<const SamplerRow> rows, SamplerOutput& out) {
    if (vocab == 0 || row_logits.size() != rows.size())
        throw_error("sampler: {} logits rows for {} sampler rows (vocab {})", row_logits.size(),
                    rows.size(), vocab);
    const auto logits_of = [&](size_t r) { return std::span<float>(row_logits[r], vocab); };
    out.rows.assign(rows.size(), SampledToken{});
    uniforms_.assign(rows.size(), 0.0);
    size_t top_total = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].params == nullptr) throw_error("sampler: row {} has no sampling params", r);
        out.rows[r].top_offset = static_cast<uint32_t>(top_total);
        out.rows[r].top_count = static_cast<uint32_t>(top_count(*rows[r].params, vocab));
        top_total += out.rows[r].top_count;
        if (!is_greedy(*rows[r].params))
            uniforms_[r] = next_uniform(rows[r].rng != nullptr ? *rows[r].rng : engine_rng_);
    }
    out.top.assign(top_total, LogprobEntry{});
    mask_grammar_rows(row_logits, vocab, rows);
    auto task = [&](size_t r, size_t worker) {
        SampledToken& token = out.rows[r];
        const std::span<LogprobEntry> top =
            std::span<LogprobEntry>(out.top).subspan(token.top_offset, token.top_count);
        const SampledToken sampled =
            sample_row(logits_of(r), rows[r], uniforms_[r], scratch_[worker], top);
        token.token_id = sampled.token_id;
        token.grammar_rejected = sampled.grammar_rejected;
        token.has_logprobs = sampled.has_logprobs;
        token.chosen = sampled.chosen;
    };
    pool_.run(rows.size(), task);
    advance_grammar_rows(rows, out);
}

void Sampler::mask_grammar_rows(std::span<float* const> row_logits, size_t vocab,
                                std::span<const SamplerRow> rows) {
    grammar_rows_.clear();
    grammar_seconds_ = 0.0;
    for (size_t r = 0; r < rows.size(); ++r)
        if (rows[r].grammar != nullptr) grammar_rows_.push_back(r);
    if (grammar_rows_.empty()) return;
    const auto start = std::chrono::steady_clock::now();
    auto task = [&](size_t i, size_t worker) {
        const size_t r = grammar_rows_[i];
        rows[r].grammar->mask_logits(std::span<float>(row_logits[r], vocab),
                                     scratch_[worker].bitmask);
    };
    pool_.run(grammar_rows_.size(), task);
    grammar_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Sampler::advance_grammar_rows(std::span<const SamplerRow> rows, SamplerOutput& out) {
    if (grammar_rows_.empty()) return;
    const auto start = std::chrono::steady_clock::now();
    auto task = [&](size_t i, size_t) {
        const size_t r = grammar_rows_[i];
        SampledToken& token = out.rows[r];
        if (token.grammar_rejected) return;
        structured::SequenceGrammar& grammar = *rows[r].grammar;
        token.grammar_rejected = !grammar.accept(token.token_id);
        token.grammar_terminated = !token.grammar_rejected && grammar.terminated();
    };
    pool_.run(grammar_rows_.size(), task);
    grammar_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

SampledToken Sampler::sample_row(std::span<float> row, const SamplerRow& input, double uniform,
                                 Scratch& scratch, std::span<LogprobEntry> top) const {
    const SamplingParams& params = *input.params;
    const bool want_logprobs = params.logprobs.has_value();
    if (want_logprobs) scratch.raw.assign(row.begin(), row.end());

    if (params.allowed_token_ids)
        apply_allowed_token_ids(row, *params.allowed_token_ids, scratch.processors);
    if (!input.bad_words_ids.empty()) apply_bad_words(row, input.bad_words_ids, input.output_ids);
    if (params.min_tokens > 0)
        apply_min_tokens(row, params, input.output_ids.size(), input.eos_ids);
    if (!params.logit_bias.empty()) apply_logit_bias(row, params.logit_bias);
    apply_penalties(row, params, input.prompt_ids, input.output_ids, scratch.processors);

    SampledToken result;
    if (is_greedy(params)) {
        result.token_id = row_argmax(row);
    } else {
        const KeptSet kept = truncate_row(row, params, scratch.truncation);
        result.token_id = draw_token(kept, uniform, scratch.truncation);
    }
    if (input.grammar != nullptr) {
        // The grammar and the processors together left no token: whatever was picked is
        // not the grammar's; the row reports it instead of feeding the grammar.
        const bool in_row =
            result.token_id >= 0 && static_cast<size_t>(result.token_id) < row.size();
        result.grammar_rejected = !in_row || std::isinf(row[static_cast<size_t>(result.token_id)]);
        if (!in_row) result.token_id = 0;
    }
    if (!want_logprobs) return result;
    const std::span<const float> raw(scratch.raw.data(), row.size());
    const float normalizer = log_normalizer(raw);
    result.has_logprobs = true;
    result.chosen = token_logprob(raw, result.token_id, normalizer);
    write_top_logprobs(raw, normalizer, scratch.top, top);
    return result;
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
