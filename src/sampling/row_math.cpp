#include "sampling/row_math.hpp"

#include <bit>
#include <cmath>
#include <limits>

namespace ovllm::sampling {
namespace {

constexpr size_t kLanes = 16;

}  // namespace

float fast_exp(float x) {
    // exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln 2 / 2; exp(r) by a degree-6
    // polynomial. The magic-number rounding keeps the whole body branch-free.
    const float clamped = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
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
    return x < -87.0f ? 0.0f : y * scale;
}

float row_max(std::span<const float> row) {
    float lanes[kLanes];
    for (float& lane : lanes) lane = -std::numeric_limits<float>::infinity();
    const size_t full = row.size() / kLanes * kLanes;
    for (size_t i = 0; i < full; i += kLanes)
        for (size_t l = 0; l < kLanes; ++l)
            lanes[l] = row[i + l] > lanes[l] ? row[i + l] : lanes[l];
    float best = -std::numeric_limits<float>::infinity();
    for (const float lane : lanes) best = lane > best ? lane : best;
    for (size_t i = full; i < row.size(); ++i) best = row[i] > best ? row[i] : best;
    return best;
}

int64_t row_argmax(std::span<const float> row) {
    if (row.empty()) return -1;
    const float best = row_max(row);
    for (size_t i = 0; i < row.size(); ++i)
        if (row[i] == best) return static_cast<int64_t>(i);
    return 0;  // all NaN: nothing compares equal; token 0 is as good as any
}

double sum_exp(std::span<const float> row, float shift, float scale) {
    float lanes[kLanes] = {};
    const size_t full = row.size() / kLanes * kLanes;
    for (size_t i = 0; i < full; i += kLanes)
        for (size_t l = 0; l < kLanes; ++l) lanes[l] += fast_exp((row[i + l] - shift) * scale);
    double total = 0.0;
    for (const float lane : lanes) total += lane;
    for (size_t i = full; i < row.size(); ++i) total += fast_exp((row[i] - shift) * scale);
    return total;
}

double exp_into(std::span<const float> row, float shift, float scale, std::span<float> out) {
    float lanes[kLanes] = {};
    const size_t full = row.size() / kLanes * kLanes;
    for (size_t i = 0; i < full; i += kLanes) {
        for (size_t l = 0; l < kLanes; ++l) {
            out[i + l] = fast_exp((row[i + l] - shift) * scale);
            lanes[l] += out[i + l];
        }
    }
    double total = 0.0;
    for (const float lane : lanes) total += lane;
    for (size_t i = full; i < row.size(); ++i) {
        out[i] = fast_exp((row[i] - shift) * scale);
        total += out[i];
    }
    return total;
}

int64_t count_at_least(std::span<const float> row, float value) {
    int32_t lanes[kLanes] = {};
    const size_t full = row.size() / kLanes * kLanes;
    for (size_t i = 0; i < full; i += kLanes)
        for (size_t l = 0; l < kLanes; ++l) lanes[l] += row[i + l] >= value ? 1 : 0;
    int64_t count = 0;
    for (const int32_t lane : lanes) count += lane;
    for (size_t i = full; i < row.size(); ++i) count += row[i] >= value ? 1 : 0;
    return count;
}

}  // namespace ovllm::sampling
