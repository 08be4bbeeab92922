#pragma once
// Weight-only compression at load time: a WeightSource decorator that quantizes projection
// and embedding weights to u8 (per output channel) or u4 (groups of 128 along the input
// axis) and hands builders the decompression subgraph the CPU plugin fuses into its
// FullyConnected and Gather kernels. The rules follow NNCF's data-free asymmetric modes:
//   scale = (max - min) / (2^bits - 1), zp = clamp(-round(min / scale)),
//   q = clamp(round(w / scale + zp)), rounding half to even; the scale is stored as f16.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <openvino/core/node_output.hpp>
#include <openvino/core/type/element_type.hpp>
#include <openvino/runtime/tensor.hpp>

#include "model/weights.hpp"

namespace ovllm::model {

enum class WeightFormat { none, int8, int4 };

// "none" (also "fp32", "fp16", "bf16": weights stay as stored), "int8", "int4".
// Throws ovllm::Error listing the accepted names.
WeightFormat parse_weight_format(const std::string& name);
const char* weight_format_name(WeightFormat format);  // "none", "int8", "int4"

inline constexpr size_t kInt4GroupSize = 128;

// One quantized [rows, cols] matrix (rows = output channels). group_size == cols means one
// group per row (per-channel). Shapes: int8 weights u8 [rows, cols], scales f16 [rows, 1],
// zero_points u8 [rows, 1]; int4 weights u4 [rows, groups, group_size], scales f16
// [rows, groups, 1], zero_points u4 [rows, groups, 1]. GGUF blocks (gguf_tensors.hpp) also
// make grouped u8 weights, and f16 zero points where they are not integers. u4 packs two values per
// byte, the even element in the low nibble.
struct QuantizedMatrix {
    int bits = 8;
    size_t rows = 0;
    size_t cols = 0;
    size_t group_size = 0;
    ov::Tensor weights;
    ov::Tensor scales;
    ov::Tensor zero_points;
};

// Where a matrix's source values live: row-major [rows, cols] of f32, f16 or bf16, or
// stored transposed ([cols, rows], GPT-2 Conv1D) when `transposed`.
struct MatrixView {
    const void* data = nullptr;
    ov::element::Type type = ov::element::f32;
    size_t rows = 0;
    size_t cols = 0;
    bool transposed = false;
};

// Calls work(begin, end) over row ranges on all cores (one thread below ~256k elements). Each
// range holds an even number of rows, so u4 values of two rows never share a byte across
// threads.
void parallel_rows(size_t rows, size_t elements, const std::function<void(size_t, size_t)>& work);

// Quantizes on all cores (threads over row blocks). bits 8 or 4; group_size must divide
// cols (pass cols for per-channel). Throws ovllm::Error for an unsupported type or group.
QuantizedMatrix quantize_matrix(const MatrixView& source, int bits, size_t group_size);

// Constant(u8/u4) -> Convert(f16) -> Subtract(Convert(zp)) -> Multiply(scale)
// [-> Reshape [rows, cols] for grouped weights] -> Convert(f32): the order the CPU plugin fuses
// into FullyConnected with u8/u4 weights. Constants are named `name` + suffix.
ov::Output<ov::Node> make_decompression(const QuantizedMatrix& matrix, const std::string& name);

// The bit-width table NNCF prints after compression. A row per mode, e.g.
// "int8_asym, per-channel" or "int4_asym, group size 128".
struct BitwidthRow {
    std::string mode;
    int bits = 0;
    int64_t parameters = 0;
    int64_t layers = 0;
    int64_t ratio_defining_parameters = 0;
    int64_t ratio_defining_layers = 0;
};

struct CompressionStatistics {
    std::vector<BitwidthRow> rows;  // highest bit width first
    int64_t total_parameters() const;
    int64_t total_layers() const;
    int64_t ratio_defining_parameters() const;
    int64_t ratio_defining_layers() const;
    // NNCF's "Statistics of the bitwidth distribution" table (util/vllm_log.hpp).
    std::string table() const;
};

// Decorates another source. matmul, matmul_transposed and embedding weights are compressed
// (int4: embeddings and the lm_head stay int8, as do matrices whose input size is not a
// multiple of 128); `other` weights pass through. A name asked for twice (a tied lm_head)
// returns the node built the first time. With WeightFormat::none every call passes through.
class CompressedWeights : public WeightSource {
  public:
    CompressedWeights(std::shared_ptr<WeightSource> inner, WeightFormat format);

    bool contains(const std::string& name) const override;
    ov::Output<ov::Node> get(const std::string& name, const ov::Shape& expected_shape,
                             WeightUse use) override;
    std::string describe() const override;

    WeightFormat format() const { return format_; }
    const CompressionStatistics& statistics() const { return statistics_; }

  private:
    void record(const std::string& mode, int bits, size_t parameters, bool ratio_defining);

    std::shared_ptr<WeightSource> inner_;
    WeightFormat format_;
    std::map<std::string, ov::Output<ov::Node>> compressed_;  // by tensor name
    CompressionStatistics statistics_;
};

}  // namespace ovllm::model
