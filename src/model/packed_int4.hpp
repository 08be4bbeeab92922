#pragma once
// Checkpoints quantized ahead of time by AutoAWQ or GPTQ (AutoGPTQ, GPTQModel, optimum):
// config.json's quantization_config, and the packed int4 tensors each quantized Linear stores
// instead of `weight`. They are re-laid out, not dequantized, as OpenVINO u4 compressed
// weights: values u4 [out, groups, group], scales f16 [out, groups, 1], zero points u4
// [out, groups, 1] (quantize.hpp's make_decompression), which the CPU plugin fuses into its
// FullyConnected kernels.
//
// Stored layouts (int32 words, 8 nibbles each, nibble k = bits 4k..4k+3):
//   AWQ (GEMM):  qweight [in, out/8], qzeros [in/group, out/8], scales f16 [in/group, out];
//                nibble k of word c holds output column 8c + (0, 2, 4, 6, 1, 3, 5, 7)[k].
//   GPTQ:        qweight [in/8, out]: nibble k of word r holds input row 8r + k;
//                qzeros [in/group, out/8]: nibble k of word c holds column 8c + k;
//                scales f16 [in/group, out]; g_idx i32 [in] = i / group (desc_act false).
//                checkpoint_format "gptq" (v1, the default) stores each zero point minus 1.
//   weight[o, i] = (q[o, i] - zero[i / group, o]) * scale[i / group, o].
#include <cstdint>
#include <memory>
#include <string>

#include "model/config_reader.hpp"
#include "model/model_config.hpp"
#include "model/safetensors_weights.hpp"
#include "model/weights.hpp"

namespace ovllm::model {

// Reads config.json's quantization_config into config.quantization (left empty when there is
// none). Throws ovllm::Error naming the field for anything but 4-bit AWQ (GEMM, with zero
// points) or GPTQ (desc_act false) with a group size of 32, 64 or 128, e.g.
// "config.json: quantization_config.bits 3 is not supported (4)".
void read_quantization_config(const ConfigReader& reader, ModelConfig& config);

// Serves `<module>.weight` of every packed Linear from its qweight / qzeros / scales as a u4
// decompression subgraph; every other tensor comes from `inner` as stored.
class PackedInt4Weights : public WeightSource {
  public:
    PackedInt4Weights(std::shared_ptr<SafetensorsWeights> inner, PackedQuantization quantization);

    bool contains(const std::string& name) const override;
    ov::Output<ov::Node> get(const std::string& name, const ov::Shape& expected_shape,
                             WeightUse use) override;
    std::string describe() const override;
    // Packed matrices served so far, for the load log.
    int64_t packed_matrices() const { return packed_; }

  private:
    std::shared_ptr<SafetensorsWeights> inner_;
    PackedQuantization quantization_;
    int64_t packed_ = 0;
};

// "AWQ int4, group size 128" or "GPTQ int4, group size 128".
std::string describe_quantization(const PackedQuantization& quantization);

}  // namespace ovllm::model
