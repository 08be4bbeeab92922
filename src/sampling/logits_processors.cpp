#include "sampling/logits_processors.hpp"

#include <algorithm>
#include <limits>

namespace ovllm::sampling {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

bool in_vocab(int64_t id, size_t vocab) {
    return id >= 0 && static_cast<uint64_t>(id) < vocab;
}

void repetition_penalty(std::span<float> row, float penalty, std::span<const int64_t> ids,
                        std::vector<uint8_t>& marks) {
    for (const int64_t id : ids) {
        if (!in_vocab(id, row.size()) || marks[id]) continue;
        marks[id] = 1;
        float& logit = row[id];
        logit = logit > 0.0f ? logit / penalty : logit * penalty;
    }
}

void clear_marks(std::span<const int64_t> ids, std::vector<uint8_t>& marks) {
    for (const int64_t id : ids)
        if (in_vocab(id, marks.size())) marks[id] = 0;
}

}  // namespace

void ProcessorScratch::ensure_vocab(size_t vocab) {
    if (counts.size() < vocab) counts.assign(vocab, 0);
    if (marks.size() < vocab) marks.assign(vocab, 0);
}

void apply_allowed_token_ids(std::span<float> row, std::span<const int64_t> allowed,
                             ProcessorScratch& scratch) {
    scratch.saved.resize(allowed.size());
    for (size_t i = 0; i < allowed.size(); ++i)
        scratch.saved[i] = in_vocab(allowed[i], row.size()) ? row[allowed[i]] : 0.0f;
    std::fill(row.begin(), row.end(), kMasked);
    for (size_t i = 0; i < allowed.size(); ++i)
        if (in_vocab(allowed[i], row.size())) row[allowed[i]] = scratch.saved[i];
}

void apply_bad_words(std::span<float> row, std::span<const std::vector<int64_t>> bad_words,
                     std::span<const int64_t> output_ids) {
    for (const std::vector<int64_t>& word : bad_words) {
        if (word.empty() || word.size() > output_ids.size() + 1) continue;
        const size_t prefix = word.size() - 1;
        const bool matches = std::equal(word.begin(), word.begin() + prefix,
                                        output_ids.end() - static_cast<ptrdiff_t>(prefix));
        if (matches && in_vocab(word.back(), row.size())) row[word.back()] = kMasked;
    }
}

void apply_min_tokens(std::span<float> row, const SamplingParams& params, size_t num_output,
                      std::span<const int64_t> eos_ids) {
    if (num_output >= static_cast<size_t>(std::max(params.min_tokens, 0))) return;
    for (const int64_t id : params.stop_token_ids)
        if (in_vocab(id, row.size())) row[id] = kMasked;
    if (params.ignore_eos) return;
    for (const int64_t id : eos_ids)
        if (in_vocab(id, row.size())) row[id] = kMasked;
}

void apply_logit_bias(std::span<float> row, const std::map<int64_t, float>& logit_bias) {
    for (const auto& [id, bias] : logit_bias)
        if (in_vocab(id, row.size())) row[id] += bias;
}

void apply_penalties(std::span<float> row, const SamplingParams& params,
                     std::span<const int64_t> prompt_ids, std::span<const int64_t> output_ids,
                     ProcessorScratch& scratch) {
    const float repetition = params.repetition_penalty;
    const float frequency = params.frequency_penalty;
    const float presence = params.presence_penalty;
    if (repetition != 1.0f && repetition > 0.0f) {
        scratch.ensure_vocab(row.size());
        repetition_penalty(row, repetition, prompt_ids, scratch.marks);
        repetition_penalty(row, repetition, output_ids, scratch.marks);
        clear_marks(prompt_ids, scratch.marks);
        clear_marks(output_ids, scratch.marks);
    }
    if (frequency == 0.0f && presence == 0.0f) return;
    scratch.ensure_vocab(row.size());
    std::vector<int32_t>& counts = scratch.counts;
    for (const int64_t id : output_ids)
        if (in_vocab(id, row.size())) ++counts[id];
    // Second walk: the first occurrence of each token applies both penalties and zeroes
    // its count, so later occurrences skip it and the scratch ends clean.
    for (const int64_t id : output_ids) {
        if (!in_vocab(id, row.size()) || counts[id] == 0) continue;
        row[id] = row[id] - frequency * static_cast<float>(counts[id]) - presence;
        counts[id] = 0;
    }
}

}  // namespace ovllm::sampling
