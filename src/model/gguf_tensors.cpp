#include "model/gguf_tensors.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include <openvino/core/type/float16.hpp>
#include <openvino/op/constant.hpp>
#include <openvino/op/convert.hpp>

#include "util/error.hpp"

namespace ovllm::model {
namespace {

float half_at(const uint8_t* p) {
    uint16_t bits;
    std::memcpy(&bits, p, 2);
    return static_cast<float>(ov::float16::from_bits(bits));
}

// One block's groups: q[block elements] and per group value = (q - zp) * scale.
struct BlockOut {
    uint8_t* q;
    float* scale;
    float* zp;
};

// value = q * s + offset over `n` values of one group.
void affine(float s, float offset, size_t n, uint8_t* q, float& scale, float& zp) {
    if (s != 0.0f) {
        scale = s;
        zp = -offset / s;
        return;
    }
    std::fill_n(q, n, uint8_t{1});  // a constant group: (1 - 0) * offset
    scale = offset;
    zp = 0.0f;
}

// The 32 four-bit values of a Q4_0/Q4_1/Q5_x block (first 16 in the low nibbles), plus the
// fifth bits of Q5_x from `high` (bit j belongs to value j).
void nibbles_32(const uint8_t* qs, const uint8_t* high, uint8_t* q) {
    uint32_t h = 0;
    if (high) std::memcpy(&h, high, 4);
    for (int j = 0; j < 16; ++j) {
        q[j] = static_cast<uint8_t>((qs[j] & 0x0F) | (((h >> j) & 1u) << 4));
        q[j + 16] = static_cast<uint8_t>((qs[j] >> 4) | (((h >> (j + 16)) & 1u) << 4));
    }
}

void block_q4_0(const uint8_t* b, BlockOut o) {
    nibbles_32(b + 2, nullptr, o.q);
    o.scale[0] = half_at(b);
    o.zp[0] = 8.0f;
}
void block_q4_1(const uint8_t* b, BlockOut o) {
    nibbles_32(b + 4, nullptr, o.q);
    affine(half_at(b), half_at(b + 2), 32, o.q, o.scale[0], o.zp[0]);
}
void block_q5_0(const uint8_t* b, BlockOut o) {
    nibbles_32(b + 6, b + 2, o.q);
    o.scale[0] = half_at(b);
    o.zp[0] = 16.0f;
}
void block_q5_1(const uint8_t* b, BlockOut o) {
    nibbles_32(b + 8, b + 4, o.q);
    affine(half_at(b), half_at(b + 2), 32, o.q, o.scale[0], o.zp[0]);
}
void block_q8_0(const uint8_t* b, BlockOut o) {
    for (int j = 0; j < 32; ++j) o.q[j] = static_cast<uint8_t>(b[2 + j] ^ 0x80);  // int8 + 128
    o.scale[0] = half_at(b);
    o.zp[0] = 128.0f;
}

// Q4_K / Q5_K: 8 sub-blocks of 32, value = d*sc*q - dmin*m with 6-bit sc, m per sub-block.
void block_q45_k(const uint8_t* b, bool five_bit, BlockOut o) {
    const float d = half_at(b);
    const float dmin = half_at(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* qh = b + 16;
    const uint8_t* qs = b + (five_bit ? 48 : 16);
    for (int chunk = 0; chunk < 4; ++chunk, qs += 32) {
        uint8_t* lo = o.q + 64 * chunk;
        uint8_t* hi = lo + 32;
        for (int l = 0; l < 32; ++l) {
            lo[l] = qs[l] & 0x0F;
            hi[l] = qs[l] >> 4;
            if (five_bit) {
                lo[l] |= static_cast<uint8_t>(((qh[l] >> (2 * chunk)) & 1) << 4);
                hi[l] |= static_cast<uint8_t>(((qh[l] >> (2 * chunk + 1)) & 1) << 4);
            }
        }
        for (int k = 0; k < 2; ++k) {
            const int g = 2 * chunk + k;
            float sc = 0.0f;
            float m = 0.0f;
            ggml_k_scale_min(g, scales, sc, m);
            affine(d * sc, -dmin * m, 32, o.q + 32 * g, o.scale[g], o.zp[g]);
        }
    }
}
void block_q4_k(const uint8_t* b, BlockOut o) {
    block_q45_k(b, false, o);
}
void block_q5_k(const uint8_t* b, BlockOut o) {
    block_q45_k(b, true, o);
}

// Q6_K: 16 sub-blocks of 16, value = d * sc[g] * (q - 32) with q = 4 low bits (ql) and
// 2 high bits (qh), int8 sc.
void block_q6_k(const uint8_t* b, BlockOut o) {
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
    const float d = half_at(b + 208);
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32) {
        uint8_t* q = o.q + 128 * half;
        for (int l = 0; l < 32; ++l) {
            q[l] = static_cast<uint8_t>((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4));
            q[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4));
            q[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
            q[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
        }
    }
    for (int g = 0; g < 16; ++g) {
        o.scale[g] = d * static_cast<float>(sc[g]);
        o.zp[g] = 32.0f;
    }
}

struct Layout {
    GgmlType type;
    int bits;            // 4: u4 weights, 8: u8
    size_t group;        // values per scale
    bool integer_zp;     // zero point stored u4/u8 (else f16)
    size_t block_elems;  // values per ggml block
    size_t block_bytes;
    void (*decode)(const uint8_t* block, BlockOut out);
};
constexpr Layout kLayouts[] = {
    {GgmlType::q4_0, 4, 32, true, 32, 18, block_q4_0},
    {GgmlType::q4_1, 4, 32, false, 32, 20, block_q4_1},
    {GgmlType::q5_0, 8, 32, true, 32, 22, block_q5_0},
    {GgmlType::q5_1, 8, 32, false, 32, 24, block_q5_1},
    {GgmlType::q8_0, 8, 32, true, 32, 34, block_q8_0},
    {GgmlType::q4_k, 4, 32, false, 256, 144, block_q4_k},
    {GgmlType::q5_k, 8, 32, false, 256, 176, block_q5_k},
    {GgmlType::q6_k, 8, 16, true, 256, 210, block_q6_k},
};

const Layout* layout_of(uint32_t type) {
    for (const Layout& l : kLayouts) {
        if (static_cast<uint32_t>(l.type) == type) return &l;
    }
    return nullptr;
}

struct MatrixDims {
    size_t rows;
    size_t cols;
    size_t row_bytes;
};

MatrixDims dims_of(const GgufTensor& t, const std::string& file) {
    if (t.dims.size() != 2) {
        throw_error("{}: tensor '{}' has {} dimensions, expected a matrix", file, t.name,
                    t.dims.size());
    }
    const size_t cols = t.dims[0];
    const size_t rows = t.dims[1];
    return {rows, cols, rows == 0 ? 0 : t.byte_size / rows};
}

size_t source_row(std::span<const int64_t> order, size_t r) {
    return order.empty() ? r : static_cast<size_t>(order[r]);
}

// Everything a row's conversion writes, for rows [begin, end).
struct RegroupTargets {
    uint8_t* weights;     // packed u4 or u8
    ov::float16* scales;  // [rows * groups]
    uint8_t* integer_zp;  // [rows * groups] unpacked, or nullptr
    ov::float16* f16_zp;  // [rows * groups], or nullptr
    std::atomic<bool>* overflow;
};

void regroup_rows(const GgufTensor& t, const Layout& l, const MatrixDims& m,
                  std::span<const int64_t> order, size_t begin, size_t end,
                  const RegroupTargets& out) {
    const size_t groups = m.cols / l.group;
    const size_t blocks = m.cols / l.block_elems;
    const size_t groups_per_block = l.block_elems / l.group;
    std::vector<uint8_t> q(m.cols);
    std::vector<float> scale(groups);
    std::vector<float> zp(groups);
    const auto* data = reinterpret_cast<const uint8_t*>(t.data);
    for (size_t r = begin; r < end; ++r) {
        const uint8_t* row = data + source_row(order, r) * m.row_bytes;
        for (size_t k = 0; k < blocks; ++k) {
            l.decode(row + k * l.block_bytes,
                     {q.data() + k * l.block_elems, scale.data() + k * groups_per_block,
                      zp.data() + k * groups_per_block});
        }
        if (l.bits == 8) {
            std::memcpy(out.weights + r * m.cols, q.data(), m.cols);
        } else {
            uint8_t* packed = out.weights + r * m.cols / 2;
            for (size_t i = 0; i < m.cols / 2; ++i) {
                packed[i] = static_cast<uint8_t>(q[2 * i] | (q[2 * i + 1] << 4));
            }
        }
        bool finite = true;
        for (size_t g = 0; g < groups; ++g) {
            const ov::float16 s(scale[g]);
            out.scales[r * groups + g] = s;
            finite = finite && std::isfinite(static_cast<float>(s));
            if (out.integer_zp) {
                out.integer_zp[r * groups + g] = static_cast<uint8_t>(zp[g]);
            } else {
                const ov::float16 z(zp[g]);
                out.f16_zp[r * groups + g] = z;
                finite = finite && std::isfinite(static_cast<float>(z));
            }
        }
        if (!finite) out.overflow->store(true);
    }
}

// The dequantized values as an owned f16 [rows, cols] tensor, row by row.
ov::Tensor dequantize_f16(const GgufTensor& t, const std::string& file, const MatrixDims& m,
                          std::span<const int64_t> order) {
    ov::Tensor values(ov::element::f16, {m.rows, m.cols});
    auto* out = values.data<ov::float16>();
    parallel_rows(m.rows, m.rows * m.cols, [&](size_t begin, size_t end) {
        std::vector<float> row(m.cols);
        for (size_t r = begin; r < end; ++r) {
            GgufTensor view = t;
            view.dims = {m.cols};
            view.elements = m.cols;
            view.byte_size = m.row_bytes;
            view.data = t.data + source_row(order, r) * m.row_bytes;
            dequantize(view, file, row.data());
            std::transform(row.begin(), row.end(), out + r * m.cols,
                           [](float v) { return ov::float16(v); });
        }
    });
    return values;
}

ov::element::Type plain_type(uint32_t type) {
    switch (static_cast<GgmlType>(type)) {
        case GgmlType::f32:
            return ov::element::f32;
        case GgmlType::f16:
            return ov::element::f16;
        case GgmlType::bf16:
            return ov::element::bf16;
        default:
            return ov::element::dynamic;
    }
}

ov::Output<ov::Node> to_f32(const std::shared_ptr<ov::op::v0::Constant>& constant) {
    if (constant->get_element_type() == ov::element::f32) return constant;
    return std::make_shared<ov::op::v0::Convert>(constant, ov::element::f32);
}

}  // namespace

ov::element::Type gguf_storage_type(uint32_t type) {
    if (const Layout* l = layout_of(type)) return l->bits == 4 ? ov::element::u4 : ov::element::u8;
    return plain_type(type);
}

const char* gguf_compressed_types() {
    return "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K";
}

std::optional<QuantizedMatrix> gguf_regroup(const GgufTensor& t, const std::string& file,
                                            std::span<const int64_t> order) {
    if (plain_type(t.type) != ov::element::dynamic) return std::nullopt;
    const Layout* l = layout_of(t.type);
    if (!l) {
        throw_error("{}: tensor '{}' has type {}, which cannot be kept compressed (supported: {})",
                    file, t.name, ggml_type_name(t.type), gguf_compressed_types());
    }
    const MatrixDims m = dims_of(t, file);
    const size_t groups = m.cols / l->group;
    QuantizedMatrix result;
    result.bits = l->bits;
    result.rows = m.rows;
    result.cols = m.cols;
    result.group_size = l->group;
    const ov::element::Type q_type = l->bits == 4 ? ov::element::u4 : ov::element::u8;
    result.weights = ov::Tensor(q_type, {m.rows, groups, l->group});
    result.scales = ov::Tensor(ov::element::f16, {m.rows, groups, 1});
    std::vector<uint8_t> integer_zp(l->integer_zp ? m.rows * groups : 0);
    if (!l->integer_zp) result.zero_points = ov::Tensor(ov::element::f16, {m.rows, groups, 1});
    std::atomic<bool> overflow{false};
    const RegroupTargets targets{
        static_cast<uint8_t*>(result.weights.data()), result.scales.data<ov::float16>(),
        l->integer_zp ? integer_zp.data() : nullptr,
        l->integer_zp ? nullptr : result.zero_points.data<ov::float16>(), &overflow};
    parallel_rows(m.rows, m.rows * m.cols, [&](size_t begin, size_t end) {
        regroup_rows(t, *l, m, order, begin, end, targets);
    });
    if (overflow.load()) return std::nullopt;
    if (l->integer_zp) {
        // Packed after the parallel pass: two u4 zero points can share a byte across rows.
        result.zero_points = ov::Tensor(q_type, {m.rows, groups, 1});
        auto* zp = static_cast<uint8_t*>(result.zero_points.data());
        if (l->bits == 8) {
            std::copy(integer_zp.begin(), integer_zp.end(), zp);
        } else {
            std::fill_n(zp, result.zero_points.get_byte_size(), uint8_t{0});
            for (size_t i = 0; i < integer_zp.size(); ++i) {
                zp[i / 2] |= static_cast<uint8_t>(integer_zp[i] << (4 * (i % 2)));
            }
        }
    }
    return result;
}

ov::Output<ov::Node> gguf_matrix(const GgufTensor& t, const std::string& file,
                                 const std::string& name, std::span<const int64_t> order,
                                 const std::shared_ptr<const void>& keepalive) {
    const MatrixDims m = dims_of(t, file);
    const ov::Shape shape{m.rows, m.cols};
    const ov::element::Type plain = plain_type(t.type);
    std::shared_ptr<ov::op::v0::Constant> constant;
    if (plain != ov::element::dynamic && order.empty()) {
        constant = std::make_shared<ov::op::v0::Constant>(plain, shape, t.data,
                                                          std::const_pointer_cast<void>(keepalive));
    } else if (plain != ov::element::dynamic) {
        ov::Tensor rows(plain, shape);  // owned: the rows in HF order
        auto* out = static_cast<std::byte*>(rows.data());
        for (size_t r = 0; r < m.rows; ++r) {
            std::memcpy(out + r * m.row_bytes, t.data + source_row(order, r) * m.row_bytes,
                        m.row_bytes);
        }
        constant = std::make_shared<ov::op::v0::Constant>(rows);
    } else if (const auto matrix = gguf_regroup(t, file, order)) {
        return make_decompression(*matrix, name);
    } else {
        constant = std::make_shared<ov::op::v0::Constant>(dequantize_f16(t, file, m, order));
    }
    constant->set_friendly_name(name);
    return to_f32(constant);
}

}  // namespace ovllm::model
