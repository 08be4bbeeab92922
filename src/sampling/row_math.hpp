#pragma once
// Dense kernels over one logits row ([vocab] floats). Written with independent lanes so
// the compiler vectorises them without -ffast-math; results do not depend on the batch.
#include <cstddef>
#include <cstdint>
#include <span>

namespace ovllm::sampling {

// exp(x) to about 2 ulp; exactly 0 for x below -87 (and for -inf).
float fast_exp(float x);

// Largest value of the row; -inf for an empty or all -inf row.
float row_max(std::span<const float> row);

// Index of the largest value, the lowest index among ties (like torch.argmax).
int64_t row_argmax(std::span<const float> row);

// Sum of exp((x - shift) * scale) over the row, accumulated per lane in float and summed
// in double at the end.
double sum_exp(std::span<const float> row, float shift, float scale);

// out[i] = exp((row[i] - shift) * scale); returns the sum as sum_exp does.
double exp_into(std::span<const float> row, float shift, float scale, std::span<float> out);

// Number of entries >= value (the rank of a token whose logit is `value`, ties counted in).
int64_t count_at_least(std::span<const float> row, float value);

}  // namespace ovllm::sampling
