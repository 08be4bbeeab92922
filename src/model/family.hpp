#pragma once
// Everything the loader knows about one model family, in one entry: the names it goes by,
// how its config.json differs from the common decoder fields, how its graph is built, and how
// a GGUF file of it maps onto HF tensor names. Each arch/<family>.cpp defines one `Family`;
// registry.cpp lists them (one line each).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openvino/core/model.hpp>

#include "model/model_config.hpp"
#include "model/weights.hpp"

namespace ovllm::model {

class ConfigReader;
class GgufFile;

// Builds the stateful model (see blocks.hpp) from a parsed config and a weight source.
using Builder = std::shared_ptr<ov::Model> (*)(const ModelConfig&, WeightSource&);
// Reads the family's config.json fields into `config` (model_type and architecture are set).
// Runs before the common fields (vocab, heads, rope, activation, window), so a default set
// here (e.g. hidden_act) is overridden by an explicit key.
using ConfigHook = void (*)(const ConfigReader& reader, ModelConfig& config);

// How llama.cpp's converter wrote the family into a GGUF file.
struct GgufMapping {
    const char* architecture;  // general.architecture, e.g. "llama"
    // The GGUF block stem ("post_attention_norm") of an HF module path inside a layer
    // ("post_attention_layernorm") where the family differs from the common llama.cpp names;
    // nullopt -> the common name.
    std::optional<std::string> (*layer_module)(const std::string& module) = nullptr;
    // The family's own `<arch>.*` keys, read after the common ones.
    void (*read_config)(const GgufFile& file, ModelConfig& config) = nullptr;
    // Rows the converter reordered: for output row r, the stored row to read. nullopt keeps
    // the stored order. `rows` is the tensor's first dimension.
    std::optional<std::vector<int64_t>> (*row_order)(const std::string& hf_name,
                                                     const ModelConfig& config,
                                                     int64_t rows) = nullptr;
    // Added to every stored value (gemma3 norms are stored as 1 + w: -1). 0 = as stored.
    float (*value_offset)(const std::string& hf_name) = nullptr;
};

// A config.json a family was published with, usable by name with `--load-format dummy`.
struct BuiltinConfig {
    std::string_view name;  // vLLM's name, e.g. "facebook/opt-125m"
    std::string_view config_json;
};

struct Family {
    std::span<const std::string_view> hf_classes;   // config.json architectures[0]
    std::span<const std::string_view> model_types;  // config.json model_type
    ConfigHook read_config;
    Builder build;
    // Parameters implied by the shapes; nullptr -> decoder_parameter_count(config, 2).
    int64_t (*parameter_count)(const ModelConfig& config) = nullptr;
    const GgufMapping* gguf = nullptr;  // nullptr: no GGUF support
    std::span<const BuiltinConfig> builtins = {};
};

// The common llama-style config.json fields (hidden_size, num_hidden_layers,
// num_attention_heads, intermediate_size, max_position_embeddings, rms_norm_eps,
// attention_bias, final_logit_softcapping): the hook of llama-like families.
void read_decoder_config(const ConfigReader& reader, ModelConfig& config);
// Parameters of a llama-style decoder with `norms_per_layer` [hidden] norms per layer.
int64_t decoder_parameter_count(const ModelConfig& config, int64_t norms_per_layer);

}  // namespace ovllm::model
