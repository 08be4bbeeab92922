#pragma once
// Random weights of any requested shape, for `--load-format dummy` (benchmarks without a
// checkpoint). Deterministic: a tensor's values depend only on the seed and its name.
#include <cstdint>
#include <string>

#include <openvino/core/type/element_type.hpp>

#include "model/weights.hpp"

namespace ovllm::model {

class DummyWeights : public WeightSource {
  public:
    // `storage`: f32, f16 or bf16 (bf16 halves memory for large models; get() converts).
    explicit DummyWeights(uint64_t seed = 0, ov::element::Type storage = ov::element::bf16);

    bool contains(const std::string&) const override { return true; }
    // Uniform in [-0.02, 0.02); 1-D norm weights (names with "norm" or "ln_") near 1.
    ov::Output<ov::Node> get(const std::string& name, const ov::Shape& expected_shape,
                             WeightUse use) override;
    std::string describe() const override { return "dummy weights"; }

  private:
    uint64_t seed_;
    ov::element::Type storage_;
};

}  // namespace ovllm::model
