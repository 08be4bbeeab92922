#pragma once
// WeightSource over safetensors files: zero-copy Constants on the mmap'ed data, converted
// to f32 in the graph when stored as f16 or bf16.
#include <filesystem>
#include <memory>
#include <string>

#include <openvino/op/constant.hpp>

#include "model/safetensors.hpp"
#include "model/weights.hpp"

namespace ovllm::model {

class SafetensorsWeights : public WeightSource {
  public:
    // `path`: a model folder (single, sharded or index-mapped) or one .safetensors file.
    explicit SafetensorsWeights(const std::filesystem::path& path);
    explicit SafetensorsWeights(std::shared_ptr<const SafetensorsModel> model);

    bool contains(const std::string& name) const override;
    // f32 output of shape `expected_shape`. For WeightUse::matmul_transposed the stored
    // tensor must be expected_shape reversed ([in, out]); the result is transposed to [out, in].
    ov::Output<ov::Node> get(const std::string& name, const ov::Shape& expected_shape,
                             WeightUse use) override;
    std::string describe() const override;

    // The stored Constant (f32, f16 or bf16) without conversion, for quantizing sources.
    // Checks the stored shape against `stored_shape`.
    std::shared_ptr<ov::op::v0::Constant> constant(const std::string& name,
                                                   const ov::Shape& stored_shape) const;
    // The type holding most parameters, for `ovllm info` (f32, f16 or bf16).
    ov::element::Type dtype() const;
    const SafetensorsModel& model() const { return *model_; }

  private:
    std::shared_ptr<const SafetensorsModel> model_;
};

}  // namespace ovllm::model
