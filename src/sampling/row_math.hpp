#pragma once
// Dense kernels over one logits row ([vocab] floats). Written with independent lanes so
// the compiler vectorises them without -ffast-math; results do not depend on the batch.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ovllm::sampling {

// exp(x) to about 2 ulp; exactly 0 for x below -87 (and for -inf). Branch-free and
// inline so that loops calling it vectorise.
inline float fast_exp(float x) {
    // exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln 2 / 2; exp(r) by a degree-6
    // polynomial. The magic-number rounding needs no rounding instruction.
    const float clamped = std::min(std::max(x, -87.0f), 88.0f);
    const float t = clamped * 1.44269504088896341f;
    const float n = (t + 12582912.0f) - 12582912.0f;
    float r = clamped - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    const float scale = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
    const float keep = x >= -87.0f ? 1.0f : 0.0f;
    return y * scale * keep;
}

// Largest value of the row; -inf for an empty or all -inf row.
float row_max(std::span<const float> row);

// Entries per block of block_maxima().
inline constexpr size_t kMaxBlock = 16;

// out[b] = max of row[b * kMaxBlock, (b + 1) * kMaxBlock) for every full block; the
// row.size() % kMaxBlock entries at the end belong to no block. out needs
// row.size() / kMaxBlock entries.
void block_maxima(std::span<const float> row, std::span<float> out);

// Index of the largest value, the lowest index among ties (like torch.argmax).
int64_t row_argmax(std::span<const float> row);

// Sum of w = exp((x - shift) * scale) over the row, counting only w >= min_weight (float
// lanes, combined in a fixed order).
double sum_exp(std::span<const float> row, float shift, float scale, float min_weight = 0.0f);

// out[i] = w = exp((row[i] - shift) * scale), or 0 where w < min_weight; returns the sum
// of out, accumulated as sum_exp does.
double exp_into(std::span<const float> row, float shift, float scale, float min_weight,
                std::span<float> out);

// Sum of the values >= threshold.
double sum_at_least(std::span<const float> values, float threshold);

// sums[j] = sum of the values >= thresholds[j], for up to kMaxThresholds thresholds in
// one pass over the values.
inline constexpr size_t kMaxThresholds = 16;
void sums_at_least(std::span<const float> values, std::span<const float> thresholds,
                   std::span<double> sums);

// Number of entries >= value (the rank of a token whose logit is `value`, ties counted in).
int64_t count_at_least(std::span<const float> row, float value);

}  // namespace ovllm::sampling
