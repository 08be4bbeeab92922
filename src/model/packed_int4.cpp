#include "model/packed_int4.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <openvino/core/type/float16.hpp>

#include "model/quantize.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

// AutoAWQ's GEMM packing: nibble k of a word holds output column 8c + kAwqOrder[k].
constexpr int kAwqOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};
constexpr size_t kPerWord = 8;  // 4-bit values per int32 word

[[noreturn]] void unsupported(const ConfigReader& q, const std::string& key,
                              const std::string& value, const char* supported) {
    throw_error("{}: {} {} is not supported ({})", q.file(), q.field_name(key), value, supported);
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// bits / w_bit and group_size / q_group_size (AutoAWQ's own spellings).
int64_t require_any(const ConfigReader& q, std::initializer_list<const char*> keys) {
    const std::string key = first_present(q, keys);
    if (key.empty()) q.missing(*keys.begin());
    return q.require_int(key);
}

void check_awq(const ConfigReader& q) {
    if (!q.optional_bool("zero_point", true)) unsupported(q, "zero_point", "false", "true");
    const std::string version = lower(q.optional_string("version").value_or("gemm"));
    if (version != "gemm") unsupported(q, "version", "'" + version + "'", "gemm");
}

// Returns whether zero points are stored minus one (GPTQ's original v1 format).
bool check_gptq(const ConfigReader& q) {
    if (q.optional_bool("desc_act", false)) unsupported(q, "desc_act", "true", "false");
    const std::string format = q.optional_string("checkpoint_format").value_or("gptq");
    if (format != "gptq" && format != "gptq_v2") {
        unsupported(q, "checkpoint_format", "'" + format + "'", "gptq, gptq_v2");
    }
    return format == "gptq";
}

uint32_t word_at(const TensorView& t, size_t index) {
    uint32_t word = 0;
    std::memcpy(&word, static_cast<const std::byte*>(t.data) + index * sizeof(word), sizeof(word));
    return word;
}

uint8_t nibble(uint32_t word, size_t k) {
    return static_cast<uint8_t>((word >> (4 * k)) & 0xFu);
}

// u4 tensors hold two values per byte, the even element in the low nibble.
void put_nibble(uint8_t* bytes, size_t index, uint8_t value) {
    uint8_t& byte = bytes[index / 2];
    byte = index % 2 ? static_cast<uint8_t>((byte & 0x0Fu) | (value << 4))
                     : static_cast<uint8_t>((byte & 0xF0u) | value);
}

// The packed tensors of one Linear [out, in].
struct Packed {
    const TensorView* qweight;
    const TensorView* qzeros;
    const TensorView* scales;
    size_t out = 0;
    size_t in = 0;
    size_t groups = 0;
};

void expect_tensor(const TensorView& t, const std::string& name, const char* dtype,
                   const ov::Shape& shape) {
    if (t.dtype != dtype || t.shape != shape) {
        throw_error("{}: tensor '{}' is {} {}, expected {} {}", t.file, name, t.dtype,
                    t.shape.to_string(), dtype, shape.to_string());
    }
}

}  // namespace

void read_quantization_config(const ConfigReader& reader, ModelConfig& config) {
    const auto q = reader.optional_object("quantization_config");
    if (!q) return;
    PackedQuantization out;
    const std::string method = q->require_string("quant_method");
    if (method == "awq") {
        out.method = PackedQuantization::Method::awq;
    } else if (method == "gptq") {
        out.method = PackedQuantization::Method::gptq;
    } else {
        unsupported(*q, "quant_method", "'" + method + "'", "awq, gptq");
    }
    const int64_t bits = require_any(*q, {"bits", "w_bit"});
    if (bits != 4) unsupported(*q, first_present(*q, {"bits", "w_bit"}), std::to_string(bits), "4");
    out.group_size = require_any(*q, {"group_size", "q_group_size"});
    if (out.group_size != 32 && out.group_size != 64 && out.group_size != 128) {
        unsupported(*q, first_present(*q, {"group_size", "q_group_size"}),
                    std::to_string(out.group_size), "32, 64, 128");
    }
    if (out.method == PackedQuantization::Method::awq) {
        check_awq(*q);
    } else {
        out.zero_points_minus_one = check_gptq(*q);
    }
    config.quantization = out;
}

std::string describe_quantization(const PackedQuantization& q) {
    return fmt::format("{} int4, group size {}",
                       q.method == PackedQuantization::Method::awq ? "AWQ" : "GPTQ", q.group_size);
}

PackedInt4Weights::PackedInt4Weights(std::shared_ptr<SafetensorsWeights> inner,
                                     PackedQuantization quantization)
    : inner_(std::move(inner)), quantization_(quantization) {}

namespace {

// "<module>" when `name` is "<module>.weight" and the file holds "<module>.qweight".
std::string packed_module(const SafetensorsWeights& weights, const std::string& name) {
    constexpr std::string_view kSuffix = ".weight";
    if (!name.ends_with(kSuffix)) return "";
    std::string module = name.substr(0, name.size() - kSuffix.size());
    return weights.contains(module + ".qweight") ? module : "";
}

// Checks every packed tensor's dtype and shape against the Linear's [out, in].
Packed find_packed(const SafetensorsModel& model, const std::string& module,
                   const PackedQuantization& q, const ov::Shape& shape) {
    Packed p{&model.raw_tensor(module + ".qweight"),
             &model.raw_tensor(module + ".qzeros"),
             &model.raw_tensor(module + ".scales"),
             shape[0],
             shape[1],
             0};
    const auto group = static_cast<size_t>(q.group_size);
    if (p.in % group != 0 || p.out % kPerWord != 0 || p.in % kPerWord != 0) {
        throw_error(
            "{}: '{}' is [{}, {}]: the input size must be a multiple of group_size {} "
            "and both sizes multiples of 8",
            p.qweight->file, module, p.out, p.in, group);
    }
    p.groups = p.in / group;
    const bool awq = q.method == PackedQuantization::Method::awq;
    expect_tensor(*p.qweight, module + ".qweight", "I32",
                  awq ? ov::Shape{p.in, p.out / kPerWord} : ov::Shape{p.in / kPerWord, p.out});
    expect_tensor(*p.qzeros, module + ".qzeros", "I32", {p.groups, p.out / kPerWord});
    expect_tensor(*p.scales, module + ".scales", "F16", {p.groups, p.out});
    return p;
}

// u4 [out, groups, group] values from qweight.
ov::Tensor unpack_values(const Packed& p, bool awq) {
    ov::Tensor values(ov::element::u4, {p.out, p.groups, p.in / p.groups});
    auto* bytes = static_cast<uint8_t*>(values.data());
    const size_t words_per_row = awq ? p.out / kPerWord : p.out;
    const size_t word_rows = awq ? p.in : p.in / kPerWord;
    for (size_t r = 0; r < word_rows; ++r) {
        for (size_t c = 0; c < words_per_row; ++c) {
            const uint32_t word = word_at(*p.qweight, r * words_per_row + c);
            for (size_t k = 0; k < kPerWord; ++k) {
                // AWQ: row r is input r, the nibble picks the output; GPTQ the other way.
                const size_t o = awq ? kPerWord * c + kAwqOrder[k] : c;
                const size_t i = awq ? r : kPerWord * r + k;
                put_nibble(bytes, o * p.in + i, nibble(word, k));
            }
        }
    }
    return values;
}

// u4 [out, groups, 1] zero points from qzeros (both formats pack along the output axis).
ov::Tensor unpack_zero_points(const Packed& p, const PackedQuantization& q,
                              const std::string& module) {
    ov::Tensor zeros(ov::element::u4, {p.out, p.groups, 1});
    auto* bytes = static_cast<uint8_t*>(zeros.data());
    const bool awq = q.method == PackedQuantization::Method::awq;
    const size_t words_per_row = p.out / kPerWord;
    for (size_t g = 0; g < p.groups; ++g) {
        for (size_t c = 0; c < words_per_row; ++c) {
            const uint32_t word = word_at(*p.qzeros, g * words_per_row + c);
            for (size_t k = 0; k < kPerWord; ++k) {
                const size_t o = kPerWord * c + (awq ? kAwqOrder[k] : k);
                const int zero = nibble(word, k) + (q.zero_points_minus_one ? 1 : 0);
                if (zero > 15) {
                    throw_error(
                        "{}: tensor '{}.qzeros' holds a zero point of {} (GPTQ v1 stores "
                        "zero - 1; 0 cannot be stored)",
                        p.qzeros->file, module, zero);
                }
                put_nibble(bytes, o * p.groups + g, static_cast<uint8_t>(zero));
            }
        }
    }
    return zeros;
}

// f16 [out, groups, 1] from scales [groups, out].
ov::Tensor transpose_scales(const Packed& p) {
    ov::Tensor scales(ov::element::f16, {p.out, p.groups, 1});
    auto* dst = scales.data<ov::float16>();
    const auto* src = static_cast<const ov::float16*>(p.scales->data);
    for (size_t g = 0; g < p.groups; ++g)
        for (size_t o = 0; o < p.out; ++o) dst[o * p.groups + g] = src[g * p.out + o];
    return scales;
}

// Act-order checkpoints permute g_idx; with desc_act false it must be i / group_size.
void check_g_idx(const SafetensorsModel& model, const std::string& module, const Packed& p) {
    const std::string name = module + ".g_idx";
    if (!model.contains(name)) return;
    const TensorView& g_idx = model.raw_tensor(name);
    expect_tensor(g_idx, name, "I32", {p.in});
    const size_t group = p.in / p.groups;
    for (size_t i = 0; i < p.in; ++i) {
        if (word_at(g_idx, i) != i / group) {
            throw_error(
                "{}: tensor '{}' is not i / group_size at input {} (act-order weights "
                "need desc_act, which is not supported)",
                g_idx.file, name, i);
        }
    }
}

}  // namespace

bool PackedInt4Weights::contains(const std::string& name) const {
    return inner_->contains(name) || !packed_module(*inner_, name).empty();
}

ov::Output<ov::Node> PackedInt4Weights::get(const std::string& name,
                                            const ov::Shape& expected_shape, WeightUse use) {
    const std::string module = packed_module(*inner_, name);
    if (module.empty()) return inner_->get(name, expected_shape, use);
    if (use != WeightUse::matmul || expected_shape.size() != 2) {
        throw_error("{}: '{}' is stored packed ({}.qweight) but is not a Linear weight", describe(),
                    name, module);
    }
    const SafetensorsModel& model = inner_->model();
    const Packed p = find_packed(model, module, quantization_, expected_shape);
    const bool awq = quantization_.method == PackedQuantization::Method::awq;
    if (!awq) check_g_idx(model, module, p);
    QuantizedMatrix matrix;
    matrix.bits = 4;
    matrix.rows = p.out;
    matrix.cols = p.in;
    matrix.group_size = p.in / p.groups;
    matrix.weights = unpack_values(p, awq);
    matrix.scales = transpose_scales(p);
    matrix.zero_points = unpack_zero_points(p, quantization_, module);
    ++packed_;
    return make_decompression(matrix, name);
}

std::string PackedInt4Weights::describe() const {
    return inner_->describe();
}

}  // namespace ovllm::model
