#include "model/quantize.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <thread>

#include <fmt/format.h>
#include <openvino/core/type/float16.hpp>
#include <openvino/op/constant.hpp>
#include <openvino/op/convert.hpp>
#include <openvino/op/multiply.hpp>
#include <openvino/op/reshape.hpp>
#include <openvino/op/subtract.hpp>
#include <openvino/op/transpose.hpp>

#include "util/error.hpp"
#include "util/log.hpp"
#include "util/vllm_log.hpp"

namespace ovllm::model {
namespace {

constexpr size_t kParallelThreshold = size_t{1} << 18;  // elements; below, one thread is faster

// Rounds half to even for |x| < 2^22 (adding 1.5 * 2^23 pushes the fraction out of the
// mantissa under the default rounding mode). Vectorizes, unlike std::nearbyint.
inline float round_half_even(float x) {
    constexpr float kMagic = 12582912.0f;
    return (x + kMagic) - kMagic;
}

inline float bf16_to_f32(uint16_t bits) {
    return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

// Row r of the source as f32 into out[0, cols).
void load_row(const MatrixView& src, size_t r, float* out) {
    const size_t cols = src.cols;
    if (!src.transposed) {
        const size_t offset = r * cols;
        if (src.type == ov::element::f32) {
            std::memcpy(out, static_cast<const float*>(src.data) + offset, cols * sizeof(float));
        } else if (src.type == ov::element::bf16) {
            const auto* in = static_cast<const uint16_t*>(src.data) + offset;
            for (size_t c = 0; c < cols; ++c) out[c] = bf16_to_f32(in[c]);
        } else {
            const auto* in = static_cast<const ov::float16*>(src.data) + offset;
            for (size_t c = 0; c < cols; ++c) out[c] = static_cast<float>(in[c]);
        }
        return;
    }
    // Stored [cols, rows]: element (r, c) sits at c * rows + r.
    const size_t stride = src.rows;
    if (src.type == ov::element::f32) {
        const auto* in = static_cast<const float*>(src.data) + r;
        for (size_t c = 0; c < cols; ++c) out[c] = in[c * stride];
    } else if (src.type == ov::element::bf16) {
        const auto* in = static_cast<const uint16_t*>(src.data) + r;
        for (size_t c = 0; c < cols; ++c) out[c] = bf16_to_f32(in[c * stride]);
    } else {
        const auto* in = static_cast<const ov::float16*>(src.data) + r;
        for (size_t c = 0; c < cols; ++c) out[c] = static_cast<float>(in[c * stride]);
    }
}

struct GroupParams {
    float scale;  // f32, as used for quantizing; stored rounded to f16
    uint8_t zero_point;
};

GroupParams group_params(const float* w, size_t n, float levels) {
    // Eight independent lanes so the compiler emits packed min/max (a running scalar
    // min is a reduction it may not reorder).
    constexpr size_t kLanes = 8;
    float lo_lanes[kLanes];
    float hi_lanes[kLanes];
    std::fill(lo_lanes, lo_lanes + kLanes, w[0]);
    std::fill(hi_lanes, hi_lanes + kLanes, w[0]);
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (size_t k = 0; k < kLanes; ++k) {
            lo_lanes[k] = std::min(lo_lanes[k], w[i + k]);
            hi_lanes[k] = std::max(hi_lanes[k], w[i + k]);
        }
    }
    for (; i < n; ++i) {
        lo_lanes[0] = std::min(lo_lanes[0], w[i]);
        hi_lanes[0] = std::max(hi_lanes[0], w[i]);
    }
    const float lo = *std::min_element(lo_lanes, lo_lanes + kLanes);
    const float hi = *std::max_element(hi_lanes, hi_lanes + kLanes);
    // A constant group would give scale 0; f32 epsilon keeps the division finite.
    const float scale = std::max((hi - lo) / levels, std::numeric_limits<float>::epsilon());
    const float zp = std::clamp(-round_half_even(lo / scale), 0.0f, levels);
    return {scale, static_cast<uint8_t>(zp)};
}

// q[i] = clamp(round(w[i] / scale + zp), 0, levels). Clamping to [-1, levels + 1] first keeps
// the value inside the range where round_half_even is exact without changing the result.
void quantize_group(const float* w, size_t n, GroupParams p, float levels, uint8_t* q) {
    const auto zp = static_cast<float>(p.zero_point);
    for (size_t i = 0; i < n; ++i) {
        const float t = std::clamp(w[i] / p.scale + zp, -1.0f, levels + 1.0f);
        q[i] = static_cast<uint8_t>(std::clamp(round_half_even(t), 0.0f, levels));
    }
}

struct Outputs {
    uint8_t* weights;
    ov::float16* scales;
    uint8_t* zero_points;
};

// Quantizes rows [begin, end). u4 packs two values per byte, the even one in the low nibble.
// Cloned for AVX2 (picked at load time by the CPU); the default clone is plain x86-64.
__attribute__((target_clones("avx2", "default"))) void quantize_rows(const MatrixView& src,
                                                                     int bits, size_t group_size,
                                                                     size_t begin, size_t end,
                                                                     Outputs out) {
    const auto levels = static_cast<float>((1 << bits) - 1);
    const size_t cols = src.cols;
    const size_t groups = cols / group_size;
    std::vector<float> row(cols);
    std::vector<uint8_t> codes(cols);
    for (size_t r = begin; r < end; ++r) {
        load_row(src, r, row.data());
        for (size_t g = 0; g < groups; ++g) {
            const float* w = row.data() + g * group_size;
            const GroupParams p = group_params(w, group_size, levels);
            quantize_group(w, group_size, p, levels, codes.data() + g * group_size);
            const size_t index = r * groups + g;
            out.scales[index] = ov::float16(p.scale);
            if (bits == 8) {
                out.zero_points[index] = p.zero_point;
            } else {
                uint8_t& byte = out.zero_points[index / 2];
                byte = index % 2 ? static_cast<uint8_t>((byte & 0x0F) | (p.zero_point << 4))
                                 : static_cast<uint8_t>((byte & 0xF0) | p.zero_point);
            }
        }
        if (bits == 8) {
            std::memcpy(out.weights + r * cols, codes.data(), cols);
        } else {  // cols is a multiple of the (even) group size, so rows start on a byte
            uint8_t* packed = out.weights + r * cols / 2;
            for (size_t c = 0; c < cols; c += 2) {
                packed[c / 2] = static_cast<uint8_t>(codes[c] | (codes[c + 1] << 4));
            }
        }
    }
}

// group_size 0: one group per output channel.
std::string mode_label(int bits, size_t group_size) {
    const std::string group =
        group_size == 0 ? "per-channel" : fmt::format("group size {}", group_size);
    return fmt::format("int{}_asym, {}", bits, group);
}

bool is_lm_head(const std::string& name) {
    return name == "lm_head.weight" || name.ends_with(".lm_head.weight") ||
           name == "embed_out.weight";
}

// The stored data under what a source returned: Constant, optionally behind a Convert
// and/or a Transpose (Conv1D layout). Returns nullptr data when the pattern differs.
MatrixView find_source_matrix(const ov::Output<ov::Node>& output, size_t rows, size_t cols) {
    std::shared_ptr<ov::Node> node = output.get_node_shared_ptr();
    bool transposed = false;
    for (int depth = 0; depth < 3; ++depth) {
        if (ov::as_type_ptr<ov::op::v0::Convert>(node)) {
            node = node->get_input_node_shared_ptr(0);
        } else if (ov::as_type_ptr<ov::op::v1::Transpose>(node) && !transposed) {
            transposed = true;
            node = node->get_input_node_shared_ptr(0);
        } else {
            break;
        }
    }
    const auto constant = ov::as_type_ptr<ov::op::v0::Constant>(node);
    if (!constant) return {};
    const ov::element::Type type = constant->get_element_type();
    if (type != ov::element::f32 && type != ov::element::f16 && type != ov::element::bf16) {
        return {};
    }
    const ov::Shape expected = transposed ? ov::Shape{cols, rows} : ov::Shape{rows, cols};
    if (constant->get_shape() != expected) return {};
    return {constant->get_data_ptr(), type, rows, cols, transposed};
}

}  // namespace

// Rows per thread rounded to an even count so u4 zero points of one byte stay in one thread.
void parallel_rows(size_t rows, size_t elements, const std::function<void(size_t, size_t)>& work) {
    const size_t threads = elements < kParallelThreshold
                               ? 1
                               : std::max<size_t>(1, std::thread::hardware_concurrency());
    if (threads == 1) {
        work(0, rows);
        return;
    }
    const size_t chunk = ((rows + threads - 1) / threads + 1) / 2 * 2;
    std::vector<std::jthread> workers;
    for (size_t begin = 0; begin < rows; begin += chunk) {
        workers.emplace_back(work, begin, std::min(rows, begin + chunk));
    }
}

WeightFormat parse_weight_format(const std::string& name) {
    if (name == "int8") return WeightFormat::int8;
    if (name == "int4") return WeightFormat::int4;
    if (name == "none" || name == "fp32" || name == "fp16" || name == "bf16") {
        return WeightFormat::none;
    }
    throw_error("--weight-format: '{}' is not one of int8, int4, none", name);
}

const char* weight_format_name(WeightFormat format) {
    switch (format) {
        case WeightFormat::int8:
            return "int8";
        case WeightFormat::int4:
            return "int4";
        case WeightFormat::none:
            break;
    }
    return "none";
}

QuantizedMatrix quantize_matrix(const MatrixView& source, int bits, size_t group_size) {
    if (bits != 8 && bits != 4) throw_error("quantize: {} bits is not 8 or 4", bits);
    if (source.type != ov::element::f32 && source.type != ov::element::f16 &&
        source.type != ov::element::bf16) {
        throw_error("quantize: element type {} is not f32, f16 or bf16",
                    source.type.get_type_name());
    }
    if (source.rows == 0 || source.cols == 0 || group_size == 0 || source.cols % group_size != 0 ||
        (bits == 4 && group_size % 2 != 0)) {
        throw_error("quantize: group size {} does not divide a [{}, {}] matrix", group_size,
                    source.rows, source.cols);
    }
    QuantizedMatrix m;
    m.bits = bits;
    m.rows = source.rows;
    m.cols = source.cols;
    m.group_size = group_size;
    const size_t groups = source.cols / group_size;
    const ov::element::Type code_type = bits == 8 ? ov::element::u8 : ov::element::u4;
    if (bits == 8) {
        m.weights = ov::Tensor(code_type, {m.rows, m.cols});
        m.scales = ov::Tensor(ov::element::f16, {m.rows, 1});
        m.zero_points = ov::Tensor(code_type, {m.rows, 1});
    } else {
        m.weights = ov::Tensor(code_type, {m.rows, groups, group_size});
        m.scales = ov::Tensor(ov::element::f16, {m.rows, groups, 1});
        m.zero_points = ov::Tensor(code_type, {m.rows, groups, 1});
        std::memset(m.zero_points.data(), 0, m.zero_points.get_byte_size());
    }
    const Outputs out{static_cast<uint8_t*>(m.weights.data()),
                      static_cast<ov::float16*>(m.scales.data()),
                      static_cast<uint8_t*>(m.zero_points.data())};
    parallel_rows(m.rows, m.rows * m.cols, [&](size_t begin, size_t end) {
        quantize_rows(source, bits, group_size, begin, end, out);
    });
    return m;
}

ov::Output<ov::Node> make_decompression(const QuantizedMatrix& m, const std::string& name) {
    auto weights = std::make_shared<ov::op::v0::Constant>(m.weights);
    weights->set_friendly_name(name);
    auto zero_points = std::make_shared<ov::op::v0::Constant>(m.zero_points);
    zero_points->set_friendly_name(name + "/zero_point");
    auto scales = std::make_shared<ov::op::v0::Constant>(m.scales);
    scales->set_friendly_name(name + "/scale");

    const auto as_f16 = std::make_shared<ov::op::v0::Convert>(weights, ov::element::f16);
    // Zero points are u8/u4 integers, or already f16 where they are not integers (GGUF).
    ov::Output<ov::Node> zp_f16 = zero_points;
    if (m.zero_points.get_element_type() != ov::element::f16) {
        zp_f16 = std::make_shared<ov::op::v0::Convert>(zero_points, ov::element::f16);
    }
    const auto centered = std::make_shared<ov::op::v1::Subtract>(as_f16, zp_f16);
    const auto scaled = std::make_shared<ov::op::v1::Multiply>(centered, scales);
    ov::Output<ov::Node> result = scaled;
    if (m.weights.get_shape().size() == 3) {  // [rows, groups, group_size]
        const auto shape = ov::op::v0::Constant::create(
            ov::element::i64, {2},
            std::vector<int64_t>{static_cast<int64_t>(m.rows), static_cast<int64_t>(m.cols)});
        result = std::make_shared<ov::op::v1::Reshape>(result, shape, false);
    }
    return std::make_shared<ov::op::v0::Convert>(result, ov::element::f32);
}

// ---- statistics -------------------------------------------------------------------------

int64_t CompressionStatistics::total_parameters() const {
    int64_t n = 0;
    for (const auto& r : rows) n += r.parameters;
    return n;
}
int64_t CompressionStatistics::total_layers() const {
    int64_t n = 0;
    for (const auto& r : rows) n += r.layers;
    return n;
}
int64_t CompressionStatistics::ratio_defining_parameters() const {
    int64_t n = 0;
    for (const auto& r : rows) n += r.ratio_defining_parameters;
    return n;
}
int64_t CompressionStatistics::ratio_defining_layers() const {
    int64_t n = 0;
    for (const auto& r : rows) n += r.ratio_defining_layers;
    return n;
}

std::string CompressionStatistics::table() const {
    // NNCF counts a layer towards the ratio only when its precision was a free choice.
    std::vector<vllm_log::WeightGroup> groups;
    for (const BitwidthRow& r : rows) {
        groups.push_back(
            {r.bits, r.ratio_defining_parameters, static_cast<int>(r.ratio_defining_layers), true});
        groups.push_back({r.bits, r.parameters - r.ratio_defining_parameters,
                          static_cast<int>(r.layers - r.ratio_defining_layers), false});
    }
    return vllm_log::nncf_bitwidth_table(groups);
}

// ---- the decorator ----------------------------------------------------------------------

CompressedWeights::CompressedWeights(std::shared_ptr<WeightSource> inner, WeightFormat format)
    : inner_(std::move(inner)), format_(format) {
    if (!inner_) throw_error("CompressedWeights: no inner weight source");
}

bool CompressedWeights::contains(const std::string& name) const {
    return inner_->contains(name);
}

std::string CompressedWeights::describe() const {
    return inner_->describe();
}

void CompressedWeights::record(const std::string& mode, int bits, size_t parameters,
                               bool ratio_defining) {
    auto it = std::find_if(statistics_.rows.begin(), statistics_.rows.end(),
                           [&](const BitwidthRow& r) { return r.mode == mode; });
    if (it == statistics_.rows.end()) {
        statistics_.rows.push_back({mode, bits, 0, 0, 0, 0});
        std::stable_sort(
            statistics_.rows.begin(), statistics_.rows.end(),
            [](const BitwidthRow& a, const BitwidthRow& b) { return a.bits > b.bits; });
        it = std::find_if(statistics_.rows.begin(), statistics_.rows.end(),
                          [&](const BitwidthRow& r) { return r.mode == mode; });
    }
    it->parameters += static_cast<int64_t>(parameters);
    it->layers += 1;
    if (ratio_defining) {
        it->ratio_defining_parameters += static_cast<int64_t>(parameters);
        it->ratio_defining_layers += 1;
    }
}

ov::Output<ov::Node> CompressedWeights::get(const std::string& name,
                                            const ov::Shape& expected_shape, WeightUse use) {
    if (format_ == WeightFormat::none || use == WeightUse::other || expected_shape.size() != 2) {
        return inner_->get(name, expected_shape, use);
    }
    if (const auto it = compressed_.find(name); it != compressed_.end()) {
        if (it->second.get_shape() != expected_shape) {
            throw_error("{}: tensor '{}' asked for as {} after {}", describe(), name,
                        expected_shape.to_string(), it->second.get_shape().to_string());
        }
        return it->second;  // tied lm_head: one compressed copy serves both uses
    }
    const ov::Output<ov::Node> original = inner_->get(name, expected_shape, use);
    const size_t rows = expected_shape[0];
    const size_t cols = expected_shape[1];
    const MatrixView view = find_source_matrix(original, rows, cols);
    if (!view.data) {
        OVLLM_WARN("{}: '{}' is not a plain constant; left uncompressed", describe(), name);
        return original;
    }
    // NNCF's int4 modes keep embeddings and the lm_head in int8 (backup mode), and so does
    // its group-size fallback for input sizes that 128 does not divide; those are not
    // ratio-defining.
    const bool backup = use == WeightUse::embedding || is_lm_head(name);
    const bool int4 = format_ == WeightFormat::int4 && !backup && cols % kInt4GroupSize == 0;
    const int bits = int4 ? 4 : 8;
    const size_t group_size = int4 ? kInt4GroupSize : cols;
    const QuantizedMatrix matrix = quantize_matrix(view, bits, group_size);
    const ov::Output<ov::Node> result = make_decompression(matrix, name);
    const bool ratio_defining = format_ == WeightFormat::int8 || (!backup && int4);
    record(mode_label(bits, int4 ? group_size : 0), bits, rows * cols, ratio_defining);
    compressed_.emplace(name, result);
    return result;
}

}  // namespace ovllm::model
