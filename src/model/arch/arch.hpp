#pragma once
// One builder per model family, each defined in its own arch/<family>.cpp. A builder turns a
// parsed config and a weight source into the stateful model described in blocks.hpp.
#include <memory>

#include <openvino/core/model.hpp>

#include "model/model_config.hpp"
#include "model/weights.hpp"

namespace ovllm::model::arch {

using Builder = std::shared_ptr<ov::Model> (*)(const ModelConfig&, WeightSource&);

std::shared_ptr<ov::Model> build_llama(const ModelConfig& config, WeightSource& weights);
std::shared_ptr<ov::Model> build_mistral(const ModelConfig& config, WeightSource& weights);
std::shared_ptr<ov::Model> build_qwen2(const ModelConfig& config, WeightSource& weights);
std::shared_ptr<ov::Model> build_qwen3(const ModelConfig& config, WeightSource& weights);
std::shared_ptr<ov::Model> build_opt(const ModelConfig& config, WeightSource& weights);
std::shared_ptr<ov::Model> build_gemma3(const ModelConfig& config, WeightSource& weights);
std::shared_ptr<ov::Model> build_gpt2(const ModelConfig& config, WeightSource& weights);

}  // namespace ovllm::model::arch
