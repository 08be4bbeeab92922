#include "model/dummy_weights.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <thread>
#include <type_traits>
#include <vector>

#include <openvino/core/type/float16.hpp>
#include <openvino/op/constant.hpp>
#include <openvino/op/convert.hpp>
#include <openvino/runtime/tensor.hpp>

#include "util/error.hpp"

namespace ovllm::model {
namespace {

constexpr float kScale = 0.02f;                 // half-width of the uniform range
constexpr size_t kValuesPerDraw = 4;            // one 64-bit draw gives four 16-bit values
constexpr size_t kParallelThreshold = 1 << 20;  // elements; below this one thread is faster

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t fnv1a(const std::string& text) {
    uint64_t hash = 0xCBF29CE484222325ull;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001B3ull;
    }
    return hash;
}

bool is_norm_weight(const std::string& name, const ov::Shape& shape) {
    const bool norm =
        name.find("norm") != std::string::npos || name.find("ln_") != std::string::npos;
    return shape.size() == 1 && norm && name.ends_with("weight");
}

template <typename T>
T encode(float value) {
    if constexpr (std::is_same_v<T, float>) {
        return value;
    } else if constexpr (std::is_same_v<T, uint16_t>) {  // bf16: the top half of the f32 bits
        return static_cast<uint16_t>(std::bit_cast<uint32_t>(value) >> 16);
    } else {
        return ov::float16(value);
    }
}

// Fills elements [begin, end) of `out`; `begin` is a multiple of kValuesPerDraw. Values depend
// only on (stream, index), so the result is the same for any split across threads.
template <typename T>
void fill_typed(T* out, size_t begin, size_t end, uint64_t stream, float center) {
    constexpr float kStep = kScale / 32768.0f;
    for (size_t i = begin; i < end; i += kValuesPerDraw) {
        const uint64_t draw = splitmix64(stream ^ ((i / kValuesPerDraw) * 0xD1B54A32D192ED03ull));
        const size_t count = std::min(kValuesPerDraw, end - i);
        for (size_t k = 0; k < count; ++k) {
            const auto bits = static_cast<uint16_t>(draw >> (16 * k));
            out[i + k] = encode<T>(center - kScale + kStep * static_cast<float>(bits));
        }
    }
}

void fill_range(void* data, ov::element::Type type, size_t begin, size_t end, uint64_t stream,
                float center) {
    if (type == ov::element::f32) {
        fill_typed(static_cast<float*>(data), begin, end, stream, center);
    } else if (type == ov::element::bf16) {
        fill_typed(static_cast<uint16_t*>(data), begin, end, stream, center);
    } else {
        fill_typed(static_cast<ov::float16*>(data), begin, end, stream, center);
    }
}

void fill_parallel(void* data, ov::element::Type type, size_t count, uint64_t stream,
                   float center) {
    const size_t threads =
        count < kParallelThreshold ? 1 : std::max(1u, std::thread::hardware_concurrency());
    if (threads == 1) {
        fill_range(data, type, 0, count, stream, center);
        return;
    }
    std::vector<std::jthread> workers;
    // Chunks start on a draw boundary so each draw is used by one thread only.
    const size_t chunk =
        ((count + threads - 1) / threads + kValuesPerDraw - 1) / kValuesPerDraw * kValuesPerDraw;
    for (size_t begin = 0; begin < count; begin += chunk) {
        const size_t end = std::min(count, begin + chunk);
        workers.emplace_back(fill_range, data, type, begin, end, stream, center);
    }
}

}  // namespace

DummyWeights::DummyWeights(uint64_t seed, ov::element::Type storage)
    : seed_(seed), storage_(storage) {
    if (storage != ov::element::f32 && storage != ov::element::f16 &&
        storage != ov::element::bf16) {
        throw_error("dummy weights: storage type {} is not f32, f16 or bf16",
                    storage.get_type_name());
    }
}

ov::Output<ov::Node> DummyWeights::get(const std::string& name, const ov::Shape& expected_shape,
                                       WeightUse /*use*/) {
    ov::Tensor buffer(storage_, expected_shape);  // owned, aligned
    const float center = is_norm_weight(name, expected_shape) ? 1.0f : 0.0f;
    fill_parallel(buffer.data(), storage_, buffer.get_size(), splitmix64(seed_ ^ fnv1a(name)),
                  center);
    auto constant = std::make_shared<ov::op::v0::Constant>(buffer);
    constant->set_friendly_name(name);
    if (storage_ == ov::element::f32) return constant;
    return std::make_shared<ov::op::v0::Convert>(constant, ov::element::f32);
}

}  // namespace ovllm::model
