#pragma once
// The one table of model families (family.hpp): lookups by HF class name, model_type and GGUF
// architecture, and the graph builder.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <openvino/core/model.hpp>

#include "model/family.hpp"
#include "model/model_config.hpp"
#include "model/weights.hpp"

namespace ovllm::model {

// Every family, in the registry's order.
std::span<const Family* const> model_families();
// The family of a config.json model_type, or nullptr.
const Family* family_for_model_type(const std::string& model_type);
// The family of a GGUF general.architecture, or nullptr.
const Family* family_for_gguf(const std::string& architecture);

// Architectures a stateful model can be built for, sorted by name.
std::vector<std::string> supported_architectures();
// GGUF general.architecture values the loader reads, sorted.
std::vector<std::string> supported_gguf_architectures();

// Builds the stateful model (inputs input_ids, attention_mask, position_ids, beam_idx; output
// logits; one KV variable pair per layer). Throws ovllm::Error listing the supported
// architectures when config.architecture is unknown.
std::shared_ptr<ov::Model> build_stateful_model(const ModelConfig& config, WeightSource& weights);

}  // namespace ovllm::model
