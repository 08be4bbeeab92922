#pragma once
// The one entry from a `--model` argument to a stateful OpenVINO model: reads the config,
// picks the weight source (safetensors, random dummy weights, or an exported IR) and builds
// the graph. The result stays stateful; make_paged_model() (paged.hpp) derives the paged form.
#include <memory>
#include <string>

#include <openvino/core/any.hpp>
#include <openvino/core/model.hpp>
#include <openvino/core/type/element_type.hpp>

#include "model/model_config.hpp"
#include "model/quantize.hpp"

namespace ovllm::model {

enum class LoadFormat {
    auto_detect,  // whatever the path holds (safetensors folder or OpenVINO IR)
    dummy,        // random weights for the config (a folder's config.json or a built-in name)
};

// "auto", "safetensors" -> auto_detect; "dummy" -> dummy. Throws ovllm::Error otherwise.
LoadFormat parse_load_format(const std::string& name);

struct LoadedModel {
    ModelConfig config;
    std::shared_ptr<ov::Model> model;  // stateful: input_ids, attention_mask, position_ids,
                                       // beam_idx -> logits, KV in variables
    std::string source;                // e.g. "safetensors: /path (bf16)" or "dummy weights"
    ov::element::Type weight_dtype;    // storage type of most weights
    ov::AnyMap runtime_options;  // IR folders: rt_info runtime_options, applied unless overridden
    bool from_ir_cache = false;  // compressed safetensors model read from the IR cache
    WeightFormat compression = WeightFormat::none;  // what the weights were compressed to here
};

// `model`: a model folder, or a built-in name with LoadFormat::dummy. Throws ovllm::Error
// naming the path for a missing or unsupported model (unknown architectures list the
// supported ones). `weight_format` int8/int4 compresses safetensors weights (the result is
// kept in the IR cache, see ir_cache.hpp; OVLLM_DISABLE_IR_CACHE=1 turns it off); dummy
// weights are compressed too; IR folders ignore it.
LoadedModel load_model(const std::string& model, LoadFormat format = LoadFormat::auto_detect,
                       WeightFormat weight_format = WeightFormat::none);

}  // namespace ovllm::model
