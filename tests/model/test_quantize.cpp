// Quantization arithmetic against a reference computed here: exact codes, scales and zero
// points for small matrices, u4 packing, transposed and bf16 sources, and the decompression
// subgraph evaluated by OpenVINO.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <openvino/core/model.hpp>
#include <openvino/core/type/float16.hpp>
#include <openvino/runtime/core.hpp>

#include "model/quantize.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

struct Reference {
    std::vector<uint8_t> codes;  // [rows, cols]
    std::vector<float> scales;   // [rows, groups], f32 before f16 storage
    std::vector<uint8_t> zero_points;
};

// NNCF's asymmetric rule written plainly with std::nearbyint (half to even).
Reference reference_quantize(const std::vector<float>& w, size_t rows, size_t cols, int bits,
                             size_t group) {
    const float levels = static_cast<float>((1 << bits) - 1);
    Reference ref;
    ref.codes.resize(rows * cols);
    for (size_t r = 0; r < rows; ++r) {
        for (size_t g = 0; g < cols / group; ++g) {
            const float* x = w.data() + r * cols + g * group;
            const float lo = *std::min_element(x, x + group);
            const float hi = *std::max_element(x, x + group);
            const float scale = std::max((hi - lo) / levels, std::numeric_limits<float>::epsilon());
            const float zp = std::clamp(-std::nearbyint(lo / scale), 0.0f, levels);
            ref.scales.push_back(scale);
            ref.zero_points.push_back(static_cast<uint8_t>(zp));
            for (size_t i = 0; i < group; ++i) {
                const float q = std::clamp(std::nearbyint(x[i] / scale + zp), 0.0f, levels);
                ref.codes[r * cols + g * group + i] = static_cast<uint8_t>(q);
            }
        }
    }
    return ref;
}

std::vector<float> pseudo_random(size_t n, uint32_t seed, float amplitude) {
    std::vector<float> values(n);
    uint32_t state = seed;
    for (float& v : values) {
        state = state * 1664525u + 1013904223u;
        v = amplitude * (static_cast<float>(state >> 8) / 16777216.0f * 2.0f - 1.0f);
    }
    return values;
}

uint8_t nibble(const uint8_t* packed, size_t index) {
    return index % 2 ? packed[index / 2] >> 4 : packed[index / 2] & 0x0F;
}

// Runs the decompression subgraph through the CPU plugin: [rows, cols] f32.
std::vector<float> evaluate(const ov::Output<ov::Node>& output) {
    const auto model = std::make_shared<ov::Model>(ov::OutputVector{output}, ov::ParameterVector{});
    ov::Core core;
    auto request = core.compile_model(model, "CPU", ov::AnyMap{{"INFERENCE_PRECISION_HINT", "f32"}})
                       .create_infer_request();
    request.infer();
    const ov::Tensor out = request.get_output_tensor(0);
    return {out.data<const float>(), out.data<const float>() + out.get_size()};
}

TEST(Quantize, HandComputedInt8Row) {
    // min -1, max 2: scale 3/255, zero point round(85) = 85; 0.5 / scale + 85 = 127.5 -> 128
    const std::vector<float> w = {-1.0f, 0.0f, 0.5f, 2.0f};
    const QuantizedMatrix q = quantize_matrix({w.data(), ov::element::f32, 1, 4, false}, 8, 4);
    const auto* codes = q.weights.data<const uint8_t>();
    const float scale = 3.0f / 255.0f;
    EXPECT_EQ(q.zero_points.data<const uint8_t>()[0], 85);
    EXPECT_EQ(q.scales.data<const ov::float16>()[0], ov::float16(scale));
    EXPECT_EQ(codes[0], 0);
    EXPECT_EQ(codes[1], 85);
    EXPECT_EQ(codes[2], static_cast<uint8_t>(std::nearbyint(0.5f / scale + 85.0f)));
    EXPECT_EQ(codes[3], 255);
}

TEST(Quantize, Int8MatchesReferenceExactly) {
    const size_t rows = 37, cols = 200;
    std::vector<float> w = pseudo_random(rows * cols, 7, 0.15f);
    std::fill(w.begin() + 3 * cols, w.begin() + 4 * cols, 0.25f);  // constant row: eps scale
    for (size_t c = 0; c < cols; ++c) w[5 * cols + c] = 0.01f * static_cast<float>(c);  // min 0
    const QuantizedMatrix q = quantize_matrix({w.data(), ov::element::f32, rows, cols}, 8, cols);
    const Reference ref = reference_quantize(w, rows, cols, 8, cols);
    ASSERT_EQ(q.weights.get_shape(), (ov::Shape{rows, cols}));
    ASSERT_EQ(q.weights.get_element_type(), ov::element::u8);
    ASSERT_EQ(q.scales.get_shape(), (ov::Shape{rows, 1}));
    ASSERT_EQ(q.zero_points.get_shape(), (ov::Shape{rows, 1}));
    const auto* codes = q.weights.data<const uint8_t>();
    EXPECT_TRUE(std::equal(ref.codes.begin(), ref.codes.end(), codes));
    for (size_t r = 0; r < rows; ++r) {
        EXPECT_EQ(q.zero_points.data<const uint8_t>()[r], ref.zero_points[r]) << "row " << r;
        EXPECT_EQ(q.scales.data<const ov::float16>()[r], ov::float16(ref.scales[r])) << "row " << r;
    }
    EXPECT_EQ(q.zero_points.data<const uint8_t>()[5], 0);
}

TEST(Quantize, DecompressionSubgraphGivesDequantizedValues) {
    const size_t rows = 9, cols = 64;
    const std::vector<float> w = pseudo_random(rows * cols, 11, 0.2f);
    const QuantizedMatrix q = quantize_matrix({w.data(), ov::element::f32, rows, cols}, 8, cols);
    const std::vector<float> out = evaluate(make_decompression(q, "w"));
    ASSERT_EQ(out.size(), rows * cols);
    double worst_error = 0.0;
    for (size_t r = 0; r < rows; ++r) {
        const float scale = static_cast<float>(q.scales.data<const ov::float16>()[r]);
        const float zp = q.zero_points.data<const uint8_t>()[r];
        for (size_t c = 0; c < cols; ++c) {
            const float code = q.weights.data<const uint8_t>()[r * cols + c];
            // The CPU plugin folds the f16 decompression in f32: (code - zp) * f16 scale.
            const float expected = (code - zp) * scale;
            EXPECT_EQ(out[r * cols + c], expected) << r << "," << c;
            worst_error =
                std::max(worst_error, std::abs(double(out[r * cols + c]) - w[r * cols + c]));
        }
    }
    EXPECT_LT(worst_error, 0.4 / 255.0 * 0.6 + 1e-3);  // half a step of a 0.4-wide range
}

TEST(Quantize, Int4GroupsPackLowNibbleFirst) {
    const size_t rows = 3, cols = 256, group = kInt4GroupSize;
    const std::vector<float> w = pseudo_random(rows * cols, 3, 0.1f);
    const QuantizedMatrix q = quantize_matrix({w.data(), ov::element::f32, rows, cols}, 4, group);
    const Reference ref = reference_quantize(w, rows, cols, 4, group);
    ASSERT_EQ(q.weights.get_element_type(), ov::element::u4);
    ASSERT_EQ(q.weights.get_shape(), (ov::Shape{rows, 2, group}));
    ASSERT_EQ(q.scales.get_shape(), (ov::Shape{rows, 2, 1}));
    ASSERT_EQ(q.zero_points.get_shape(), (ov::Shape{rows, 2, 1}));
    ASSERT_EQ(q.weights.get_byte_size(), rows * cols / 2);
    const auto* packed = static_cast<const uint8_t*>(q.weights.data());
    for (size_t i = 0; i < rows * cols; ++i) ASSERT_EQ(nibble(packed, i), ref.codes[i]) << i;
    const auto* zps = static_cast<const uint8_t*>(q.zero_points.data());
    for (size_t g = 0; g < rows * 2; ++g) {
        EXPECT_EQ(nibble(zps, g), ref.zero_points[g]) << "group " << g;
        EXPECT_EQ(q.scales.data<const ov::float16>()[g], ov::float16(ref.scales[g]));
    }
    // The graph reshapes back to [rows, cols] and dequantizes group by group.
    const std::vector<float> out = evaluate(make_decompression(q, "w4"));
    ASSERT_EQ(out.size(), rows * cols);
    for (size_t i = 0; i < rows * cols; ++i) {
        const size_t g = i / group;
        const float scale = static_cast<float>(ov::float16(ref.scales[g]));
        const float expected = (float(ref.codes[i]) - float(ref.zero_points[g])) * scale;
        ASSERT_EQ(out[i], expected) << i;
    }
}

TEST(Quantize, Bf16AndTransposedSourcesMatchF32) {
    const size_t rows = 6, cols = 128;
    const std::vector<float> f32 = pseudo_random(rows * cols, 5, 0.3f);
    std::vector<uint16_t> bf16(rows * cols);
    std::vector<float> rounded(rows * cols);
    std::vector<uint16_t> bf16_transposed(rows * cols);
    for (size_t i = 0; i < rows * cols; ++i) {
        bf16[i] = static_cast<uint16_t>(std::bit_cast<uint32_t>(f32[i]) >> 16);
        rounded[i] = std::bit_cast<float>(static_cast<uint32_t>(bf16[i]) << 16);
    }
    for (size_t r = 0; r < rows; ++r) {
        for (size_t c = 0; c < cols; ++c) bf16_transposed[c * rows + r] = bf16[r * cols + c];
    }
    const Reference ref = reference_quantize(rounded, rows, cols, 8, cols);
    for (const bool transposed : {false, true}) {
        const void* data = transposed ? bf16_transposed.data() : bf16.data();
        const QuantizedMatrix q =
            quantize_matrix({data, ov::element::bf16, rows, cols, transposed}, 8, cols);
        EXPECT_TRUE(std::equal(ref.codes.begin(), ref.codes.end(), q.weights.data<const uint8_t>()))
            << "transposed " << transposed;
    }
}

TEST(Quantize, LargeMatrixUsesThreadsWithSameResult) {
    const size_t rows = 1030, cols = 512;  // above the parallel threshold, odd row split
    const std::vector<float> w = pseudo_random(rows * cols, 13, 0.05f);
    const QuantizedMatrix q = quantize_matrix({w.data(), ov::element::f32, rows, cols}, 4, 128);
    const Reference ref = reference_quantize(w, rows, cols, 4, 128);
    const auto* packed = static_cast<const uint8_t*>(q.weights.data());
    size_t mismatches = 0;
    for (size_t i = 0; i < rows * cols; ++i) mismatches += nibble(packed, i) != ref.codes[i];
    EXPECT_EQ(mismatches, 0u);
    const auto* zps = static_cast<const uint8_t*>(q.zero_points.data());
    for (size_t g = 0; g < rows * 4; ++g) ASSERT_EQ(nibble(zps, g), ref.zero_points[g]) << g;
}

TEST(Quantize, RejectsBadGroupsAndTypes) {
    const std::vector<float> w(64, 1.0f);
    EXPECT_THROW(quantize_matrix({w.data(), ov::element::f32, 1, 64}, 4, 128), Error);
    EXPECT_THROW(quantize_matrix({w.data(), ov::element::i32, 1, 64}, 8, 64), Error);
    EXPECT_THROW(quantize_matrix({w.data(), ov::element::f32, 1, 64}, 3, 64), Error);
}

TEST(Quantize, WeightFormatNames) {
    EXPECT_EQ(parse_weight_format("int8"), WeightFormat::int8);
    EXPECT_EQ(parse_weight_format("int4"), WeightFormat::int4);
    EXPECT_EQ(parse_weight_format("none"), WeightFormat::none);
    EXPECT_EQ(parse_weight_format("fp32"), WeightFormat::none);
    EXPECT_STREQ(weight_format_name(WeightFormat::int4), "int4");
    try {
        parse_weight_format("int3");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("int3"), std::string::npos);
    }
}

}  // namespace
}  // namespace ovllm::model
