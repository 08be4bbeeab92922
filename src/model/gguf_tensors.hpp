#pragma once
// How a GGUF tensor becomes OpenVINO constants without growing: each ggml block type is
// re-laid out, block by block, as the group-wise compressed weights the CPU plugin fuses into
// FullyConnected / Gather (../shared/design/openvino.md §5): value = (q - zp) * scale.
//
//   type   weights            group  scale (f16)   zero point
//   Q4_0   u4 [rows, g, 32]   32     d             u4 8
//   Q4_1   u4                 32     d             f16 -m/d
//   Q5_0   u8                 32     d             u8 16
//   Q5_1   u8                 32     d             f16 -m/d
//   Q8_0   u8 (int8 + 128)    32     d             u8 128
//   Q4_K   u4                 32     d*sc          f16 dmin*m/(d*sc)
//   Q5_K   u8                 32     d*sc          f16 dmin*m/(d*sc)
//   Q6_K   u8                 16     d*sc          u8 32
//
// Exactness: q is copied bit for bit. Q4_0, Q5_0, Q8_0 are exact (d is stored f16 already).
// Where a scale or zero point is a product or quotient, storing it as f16 rounds it by at most
// u = 2^-11 relative, so with s = d*sc and b = dmin*m (or -m) each weight is off by at most
// u * (|q * s| + |b|) from the ggml dequantized value. A group whose scale is 0 (a constant
// group) is stored as q = 1, zp = 0, scale = that constant. A tensor whose f16 scale or zero
// point would overflow is dequantized to f16 instead. F16 and BF16 tensors stay as stored
// (zero-copy) behind a Convert; F32 tensors stay f32.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <openvino/core/node_output.hpp>

#include "model/gguf.hpp"
#include "model/quantize.hpp"

namespace ovllm::model {

// What a matrix of ggml `type` is stored as: u4, u8, or f32/f16/bf16 for plain types.
ov::element::Type gguf_storage_type(uint32_t type);

// The block types gguf_matrix keeps compressed ("Q4_0, Q4_1, ...") for messages.
const char* gguf_compressed_types();

// The compressed form of a 2-D quantized tensor: rows of `tensor` in the order `row_order`
// (row i of the result is stored row row_order[i]; empty keeps the stored order). nullopt for
// F32/F16/BF16 and when an f16 scale or zero point would overflow. Throws ovllm::Error naming
// `file` and the tensor for a type with no re-layout.
std::optional<QuantizedMatrix> gguf_regroup(const GgufTensor& tensor, const std::string& file,
                                            std::span<const int64_t> row_order = {});

// An f32-valued output for a 2-D tensor used as a matmul or embedding weight, named `name`:
// the decompression subgraph of gguf_regroup, or a Constant over the mapping (kept alive by
// `keepalive`) of F16/BF16/F32 data, or (overflow) an owned f16 Constant of the dequantized
// values, each followed by a Convert to f32.
ov::Output<ov::Node> gguf_matrix(const GgufTensor& tensor, const std::string& file,
                                 const std::string& name, std::span<const int64_t> row_order,
                                 const std::shared_ptr<const void>& keepalive);

}  // namespace ovllm::model
