#pragma once
// Architecture name (config.json architectures[0]) -> graph builder.
#include <memory>
#include <string>
#include <vector>

#include <openvino/core/model.hpp>

#include "model/model_config.hpp"
#include "model/weights.hpp"

namespace ovllm::model {

// Architectures a stateful model can be built for, sorted by name.
std::vector<std::string> supported_architectures();

// Builds the stateful model (inputs input_ids, attention_mask, position_ids, beam_idx; output
// logits; one KV variable pair per layer). Throws ovllm::Error listing the supported
// architectures when config.architecture is unknown.
std::shared_ptr<ov::Model> build_stateful_model(const ModelConfig& config, WeightSource& weights);

}  // namespace ovllm::model
