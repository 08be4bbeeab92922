// GGUF blocks kept compressed (model/gguf_tensors.hpp): for every block type, random blocks
// re-laid out as u4/u8 groups give back ggml's dequantized values (model/gguf.hpp's
// dequantize(), written from the format's definition) within the f16 rounding of the scale
// and zero point, rows reorder as asked, and F16 data stays zero-copy.
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openvino/core/type/float16.hpp>
#include <openvino/op/constant.hpp>

#include "model/gguf.hpp"
#include "model/gguf_tensors.hpp"
#include "util/error.hpp"

namespace ovllm::test {
namespace {

using model::GgmlType;
using model::GgufTensor;

struct BlockType {
    GgmlType type;
    size_t elems;
    size_t bytes;
    std::vector<size_t> f16_offsets;  // where the block's f16 scales (d, dmin) sit
    double max_offset;                // bound on |b| (the per-group offset) for these blocks
};

// Scales d, dmin in [2^-10, 2^-7]: a block's value range and offset stay far from f16 limits.
// Offsets: Q4_1/Q5_1 |m| <= 2^-7; K-quants dmin * 63.
const BlockType kTypes[] = {
    {GgmlType::q4_0, 32, 18, {0}, 0.0},
    {GgmlType::q4_1, 32, 20, {0, 2}, 0.0078125},
    {GgmlType::q5_0, 32, 22, {0}, 0.0},
    {GgmlType::q5_1, 32, 24, {0, 2}, 0.0078125},
    {GgmlType::q8_0, 32, 34, {0}, 0.0},
    {GgmlType::q4_k, 256, 144, {0, 2}, 63 * 0.0078125},
    {GgmlType::q5_k, 256, 176, {0, 2}, 63 * 0.0078125},
    {GgmlType::q6_k, 256, 210, {208}, 0.0},
};

std::vector<uint8_t> random_blocks(const BlockType& t, size_t blocks, std::mt19937& rng) {
    std::vector<uint8_t> data(blocks * t.bytes);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> scale(1.0f / 1024, 1.0f / 128);
    for (auto& b : data) b = static_cast<uint8_t>(byte(rng));
    for (size_t k = 0; k < blocks; ++k) {
        for (size_t i = 0; i < t.f16_offsets.size(); ++i) {
            float v = scale(rng);
            // Q4_1/Q5_1's second f16 is the offset m, of either sign.
            if (i == 1 && t.elems == 32 && byte(rng) % 2) v = -v;
            const uint16_t bits = ov::float16(v).to_bits();
            std::memcpy(&data[k * t.bytes + t.f16_offsets[i]], &bits, 2);
        }
    }
    return data;
}

GgufTensor matrix(GgmlType type, size_t rows, size_t cols, const std::vector<uint8_t>& data) {
    GgufTensor t;
    t.name = model::ggml_type_name(static_cast<uint32_t>(type));
    t.type = static_cast<uint32_t>(type);
    t.dims = {cols, rows};
    t.elements = rows * cols;
    t.data = reinterpret_cast<const std::byte*>(data.data());
    t.byte_size = data.size();
    return t;
}

// (q - zp) * scale of element (r, c), read back from the compressed tensors.
float decompressed(const model::QuantizedMatrix& m, size_t r, size_t c) {
    const size_t groups = m.cols / m.group_size;
    const size_t g = r * groups + c / m.group_size;
    const size_t i = r * m.cols + c;
    const auto* w = static_cast<const uint8_t*>(m.weights.data());
    const int q = m.bits == 8 ? w[i] : (w[i / 2] >> (4 * (i % 2))) & 0x0F;
    float zp = 0.0f;
    const auto* zp_bytes = static_cast<const uint8_t*>(m.zero_points.data());
    if (m.zero_points.get_element_type() == ov::element::f16) {
        zp = static_cast<float>(m.zero_points.data<ov::float16>()[g]);
    } else if (m.zero_points.get_element_type() == ov::element::u8) {
        zp = zp_bytes[g];
    } else {
        zp = static_cast<float>((zp_bytes[g / 2] >> (4 * (g % 2))) & 0x0F);
    }
    return (static_cast<float>(q) - zp) * static_cast<float>(m.scales.data<ov::float16>()[g]);
}

TEST(GgufTensors, EveryBlockTypeMatchesTheDequantizedValues) {
    std::mt19937 rng(7);
    constexpr size_t kRows = 6;
    constexpr double kU = 1.0 / 2048;  // f16 unit roundoff
    for (const BlockType& t : kTypes) {
        const size_t cols = 512;
        const auto data = random_blocks(t, kRows * cols / t.elems, rng);
        const GgufTensor tensor = matrix(t.type, kRows, cols, data);
        std::vector<float> reference(kRows * cols);
        model::dequantize(tensor, "test.gguf", reference.data());
        const std::vector<int64_t> order = {5, 0, 4, 1, 3, 2};  // row i <- stored row order[i]
        const auto m = model::gguf_regroup(tensor, "test.gguf", order);
        ASSERT_TRUE(m.has_value()) << tensor.name;
        EXPECT_EQ(m->weights.get_element_type(), model::gguf_storage_type(tensor.type))
            << tensor.name;
        double worst = 0.0;
        for (size_t r = 0; r < kRows; ++r) {
            for (size_t c = 0; c < cols; ++c) {
                const double want = reference[static_cast<size_t>(order[r]) * cols + c];
                const double got = decompressed(*m, r, c);
                // f16 scale: u * |q * s| <= u * (|w| + |b|); f16 zero point: u * |b|.
                const double bound = kU * (std::abs(want) + 2 * t.max_offset) + 1e-7;
                ASSERT_LE(std::abs(got - want), bound)
                    << tensor.name << " row " << r << " col " << c << ": " << got << " vs " << want;
                worst = std::max(worst, std::abs(got - want));
            }
        }
        // Q4_0, Q5_0, Q8_0, Q6_K store d (or d*sc, exact in f16 for these ranges) as is.
        if (t.max_offset == 0.0 && t.type != GgmlType::q6_k) {
            EXPECT_EQ(worst, 0.0) << tensor.name;
        }
    }
}

TEST(GgufTensors, ConstantGroupsStayExact) {
    // A Q4_1 block with d = 0 is the constant m: stored as q = 1, zp = 0, scale = m.
    std::vector<uint8_t> block(20, 0x5A);
    const uint16_t zero = 0;
    const uint16_t m = ov::float16(-0.375f).to_bits();
    std::memcpy(block.data(), &zero, 2);
    std::memcpy(block.data() + 2, &m, 2);
    const auto result = model::gguf_regroup(matrix(GgmlType::q4_1, 1, 32, block), "t.gguf");
    ASSERT_TRUE(result.has_value());
    for (size_t c = 0; c < 32; ++c) EXPECT_EQ(decompressed(*result, 0, c), -0.375f);
}

TEST(GgufTensors, PlainTypesStayAsStored) {
    std::vector<uint8_t> data(2 * 32 * 2);
    const GgufTensor tensor = matrix(GgmlType::f16, 2, 32, data);
    EXPECT_FALSE(model::gguf_regroup(tensor, "t.gguf").has_value());
    const auto out = model::gguf_matrix(tensor, "t.gguf", "w", {}, nullptr);
    // Convert(f16 -> f32) over a Constant that points into the file's bytes.
    const auto constant = std::dynamic_pointer_cast<ov::op::v0::Constant>(
        out.get_node()->input_value(0).get_node_shared_ptr());
    ASSERT_NE(constant, nullptr);
    EXPECT_EQ(constant->get_data_ptr(), static_cast<const void*>(data.data()));
    EXPECT_EQ(out.get_element_type(), ov::element::f32);
}

TEST(GgufTensors, TypeWithoutReLayoutIsRefused) {
    std::vector<uint8_t> data(84, 0);
    GgufTensor tensor = matrix(GgmlType::q2_k, 1, 256, data);
    try {
        model::gguf_regroup(tensor, "t.gguf");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "t.gguf: tensor 'Q2_K' has type Q2_K, which cannot be kept compressed "
                     "(supported: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)");
    }
}

}  // namespace
}  // namespace ovllm::test
