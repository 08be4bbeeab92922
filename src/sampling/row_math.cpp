#include "sampling/row_math.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

// The row kernels use GCC/Clang vector extensions, 4 floats per step (one SSE register,
// the x86-64 baseline). Plain loops do not vectorise here: GCC keeps float reductions in order and
// will not if-convert the exp. Lane results are combined in a fixed order, so every
// result is deterministic for a given build.

namespace ovllm::sampling {
namespace {

using vfloat = float __attribute__((vector_size(16)));
using vint = int32_t __attribute__((vector_size(16)));
constexpr size_t kWidth = sizeof(vfloat) / sizeof(float);

vfloat load(const float* p) {
    vfloat v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

void store(float* p, vfloat v) {
    std::memcpy(p, &v, sizeof v);
}

vfloat splat(float x) {
    return vfloat{} + x;
}

// Vector form of fast_exp(), the same arithmetic lane by lane.
vfloat fast_exp_v(vfloat x) {
    vfloat clamped = x < -87.0f ? splat(-87.0f) : x;
    clamped = clamped > 88.0f ? splat(88.0f) : clamped;
    const vfloat t = clamped * 1.44269504088896341f;
    const vfloat n = (t + 12582912.0f) - 12582912.0f;
    vfloat r = clamped - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    vfloat p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const vfloat y = p * r * r + r + 1.0f;
    const vint bits = (__builtin_convertvector(n, vint) + 127) << 23;
    const vfloat scale = (vfloat)bits;  // same-size vector cast: reinterprets the bits
    return x >= -87.0f ? y * scale : splat(0.0f);
}

double horizontal_sum(vfloat v) {
    double total = 0.0;
    for (size_t l = 0; l < kWidth; ++l) total += v[l];
    return total;
}

}  // namespace

float row_max(std::span<const float> row) {
    const float* data = row.data();
    const size_t full = row.size() / kWidth * kWidth;
    vfloat best = splat(-std::numeric_limits<float>::infinity());
    for (size_t i = 0; i < full; i += kWidth) {
        const vfloat v = load(data + i);
        best = v > best ? v : best;
    }
    float result = -std::numeric_limits<float>::infinity();
    for (size_t l = 0; l < kWidth; ++l) result = best[l] > result ? best[l] : result;
    for (size_t i = full; i < row.size(); ++i) result = data[i] > result ? data[i] : result;
    return result;
}

void block_maxima(std::span<const float> row, std::span<float> out) {
    static_assert(kMaxBlock % kWidth == 0);
    const float* data = row.data();
    const size_t blocks = row.size() / kMaxBlock;
    for (size_t b = 0; b < blocks; ++b) {
        const float* block = data + b * kMaxBlock;
        vfloat best = load(block);
        for (size_t i = kWidth; i < kMaxBlock; i += kWidth) {
            const vfloat v = load(block + i);
            best = v > best ? v : best;
        }
        float result = best[0];
        for (size_t l = 1; l < kWidth; ++l) result = best[l] > result ? best[l] : result;
        out[b] = result;
    }
}

int64_t row_argmax(std::span<const float> row) {
    if (row.empty()) return -1;
    // One pass: each lane keeps its best value and the first index where it occurred.
    const float* data = row.data();
    const size_t full = row.size() / kWidth * kWidth;
    vfloat best = splat(-std::numeric_limits<float>::infinity());
    vint best_index = vint{} - 1;
    vint index = vint{};
    for (size_t l = 0; l < kWidth; ++l) index[l] = static_cast<int32_t>(l);
    for (size_t i = 0; i < full; i += kWidth) {
        const vfloat v = load(data + i);
        const vint better = v > best;
        best = better ? v : best;
        best_index = better ? index : best_index;
        index += static_cast<int32_t>(kWidth);
    }
    float result = -std::numeric_limits<float>::infinity();
    int64_t result_index = -1;
    for (size_t l = 0; l < kWidth; ++l) {
        if (best_index[l] < 0) continue;
        if (best[l] > result || (best[l] == result && best_index[l] < result_index)) {
            result = best[l];
            result_index = best_index[l];
        }
    }
    for (size_t i = full; i < row.size(); ++i) {
        if (data[i] > result) {
            result = data[i];
            result_index = static_cast<int64_t>(i);
        }
    }
    return result_index < 0 ? 0 : result_index;  // all -inf or NaN: token 0
}

double sum_exp(std::span<const float> row, float shift, float scale, float min_weight) {
    const float* data = row.data();
    const size_t full = row.size() / kWidth * kWidth;
    vfloat acc = splat(0.0f);
    for (size_t i = 0; i < full; i += kWidth) {
        const vfloat w = fast_exp_v((load(data + i) - shift) * scale);
        acc += w >= min_weight ? w : splat(0.0f);
    }
    double total = horizontal_sum(acc);
    for (size_t i = full; i < row.size(); ++i) {
        const float w = fast_exp((data[i] - shift) * scale);
        total += w >= min_weight ? w : 0.0f;
    }
    return total;
}

double exp_into(std::span<const float> row, float shift, float scale, float min_weight,
                std::span<float> out) {
    const float* data = row.data();
    float* weights = out.data();
    const size_t full = row.size() / kWidth * kWidth;
    vfloat acc = splat(0.0f);
    for (size_t i = 0; i < full; i += kWidth) {
        vfloat w = fast_exp_v((load(data + i) - shift) * scale);
        w = w >= min_weight ? w : splat(0.0f);
        store(weights + i, w);
        acc += w;
    }
    double total = horizontal_sum(acc);
    for (size_t i = full; i < row.size(); ++i) {
        const float w = fast_exp((data[i] - shift) * scale);
        weights[i] = w >= min_weight ? w : 0.0f;
        total += weights[i];
    }
    return total;
}

double sum_at_least(std::span<const float> values, float threshold) {
    const float* data = values.data();
    const size_t full = values.size() / kWidth * kWidth;
    vfloat acc = splat(0.0f);
    for (size_t i = 0; i < full; i += kWidth) {
        const vfloat v = load(data + i);
        acc += v >= threshold ? v : splat(0.0f);
    }
    double total = horizontal_sum(acc);
    for (size_t i = full; i < values.size(); ++i) total += data[i] >= threshold ? data[i] : 0.0f;
    return total;
}

void sums_at_least(std::span<const float> values, std::span<const float> thresholds,
                   std::span<double> sums) {
    const size_t m = std::min(thresholds.size(), kMaxThresholds);
    const float* data = values.data();
    const size_t full = values.size() / kWidth * kWidth;
    vfloat acc[kMaxThresholds] = {};
    for (size_t i = 0; i < full; i += kWidth) {
        const vfloat v = load(data + i);
        for (size_t j = 0; j < m; ++j) acc[j] += v >= thresholds[j] ? v : splat(0.0f);
    }
    for (size_t j = 0; j < m; ++j) {
        sums[j] = horizontal_sum(acc[j]);
        for (size_t i = full; i < values.size(); ++i)
            sums[j] += data[i] >= thresholds[j] ? data[i] : 0.0f;
    }
}

int64_t count_at_least(std::span<const float> row, float value) {
    const float* data = row.data();
    const size_t full = row.size() / kWidth * kWidth;
    vint acc = vint{};
    for (size_t i = 0; i < full; i += kWidth) acc -= load(data + i) >= value;  // true is -1
    int64_t count = 0;
    for (size_t l = 0; l < kWidth; ++l) count += acc[l];
    for (size_t i = full; i < row.size(); ++i) count += data[i] >= value ? 1 : 0;
    return count;
}

}  // namespace ovllm::sampling
