#pragma once
// Temperature, min-p, top-k and top-p over one processed logits row, then the random draw.
// Order and semantics follow vLLM v1: logits / temperature; min-p keeps tokens with
// p >= min_p * p_max; top-k keeps every token whose logit is >= the k-th largest (ties at
// the k-th value all survive); top-p, over the softmax of what is left, keeps the tokens
// whose preceding mass (in descending order) is < top_p, plus any token tied with the last
// one kept, so the result never depends on how ties were ordered.
#include <cstdint>
#include <span>
#include <vector>

#include "ovllm/sampling_params.hpp"
#include "sampling/row_math.hpp"

namespace ovllm::sampling {

// Below this temperature a request is greedy (vLLM's _SAMPLING_EPS).
inline constexpr float kGreedyTemperature = 1e-5f;

struct Candidate {
    float logit = 0.0f;   // processed logit, before temperature
    float weight = 0.0f;  // exp((logit - max) / temperature): unnormalised probability
    int32_t id = 0;
};

// Buffers of select_top().
struct TopScratch {
    std::vector<Candidate> heap;        // [n] the best so far, worst at the front
    std::vector<float> block_maxima;    // [vocab / kMaxBlock] blocks below the n-th are skipped
    std::vector<float> largest_maxima;  // [n] heap of the largest block maxima
};

// Buffers reused across rows and steps.
struct TruncationScratch {
    TopScratch top;                     // top-k selection
    std::vector<Candidate> candidates;  // surviving tokens
    std::vector<Candidate> boundary;    // the top-p bucket that needs sorting
    std::vector<float> weights;         // [vocab] top-p without top-k
    std::vector<double> block_sums;     // [vocab / kDrawBlock]
};

// The tokens a random draw chooses from. Either an explicit candidate list, or (when
// neither top-k nor top-p truncates) the whole row, token i weighing
// exp((row[i] - max) * inv_temp), or 0 below min_p; only per-block sums are stored.
struct KeptSet {
    std::span<const Candidate> candidates;
    double total = 0.0;  // sum of the kept weights
    bool whole_row = false;
    std::span<const float> row;  // whole-row form only, like the three below
    float max = 0.0f;
    float inv_temp = 1.0f;
    float min_p = 0.0f;
};

// Weight of token `id` in the whole-row form.
float kept_weight(const KeptSet& kept, size_t id);

// Top `n` entries of `row` into scratch.heap, best first (larger logit, then lower id);
// weights left 0. Also leaves scratch.block_maxima filled for the row.
void select_top(std::span<const float> row, size_t n, TopScratch& scratch);

// Applies temperature (> kGreedyTemperature), min_p, top_k and top_p to `row` without
// modifying it; the result points into `scratch`.
KeptSet truncate_row(std::span<const float> row, const SamplingParams& params,
                     TruncationScratch& scratch);

// The token at cumulative mass u * total (u in [0, 1)), walking the kept set in its order.
int64_t draw_token(const KeptSet& kept, double u, const TruncationScratch& scratch);

}  // namespace ovllm::sampling
