#pragma once
// Model config and weights from a GGUF file. Builders ask for HF tensor names
// ("model.layers.3.self_attn.q_proj.weight"); the source maps them to the GGUF names
// ("blk.3.attn_q.weight"), keeps matrices compressed (gguf_tensors.hpp) and undoes llama.cpp's
// conversion changes (each family's GgufMapping in arch/<family>.cpp: llama Q/K row
// permutation, gemma3 norms stored as 1 + w). Architectures: supported_gguf_architectures().
// The tokenizer comes from the file's metadata (tokenizer/gguf_tokenizer.hpp).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "model/family.hpp"
#include "model/gguf.hpp"
#include "model/loader.hpp"
#include "model/model_config.hpp"
#include "model/weights.hpp"

namespace ovllm::model {

// Throws ovllm::Error naming the file and key for an unknown general.architecture or a
// missing required `<arch>.*` key.
ModelConfig gguf_model_config(const GgufFile& file);

// The GGUF name of an HF tensor name for `arch` ("llama", "qwen2", "gemma3"); nullopt when
// the name has no GGUF counterpart.
std::optional<std::string> gguf_tensor_name(const std::string& arch, const std::string& hf_name);

class GgufWeights : public WeightSource {
  public:
    // dequantize_f32: every tensor becomes owned f32 (the exact reference compressed weights
    // are tested against; 4-8x the memory).
    GgufWeights(std::shared_ptr<const GgufFile> file, const ModelConfig& config,
                bool dequantize_f32 = false);

    bool contains(const std::string& name) const override;
    ov::Output<ov::Node> get(const std::string& name, const ov::Shape& expected_shape,
                             WeightUse use) override;
    std::string describe() const override;
    // The ggml type id holding most parameters (Q4_1, Q4_K, F16, ...).
    uint32_t main_type() const;

  private:
    std::shared_ptr<const GgufFile> file_;
    std::string arch_;
    const GgufMapping* mapping_;  // the family's quirks (registry.hpp)
    ModelConfig config_;
    bool dequantize_f32_ = false;
};

// Reads the file, its config and weights and builds the stateful model (load_model's GGUF
// branch). Throws ovllm::Error listing the supported types when a tensor's type is not one.
// weight_dtype is the storage of most weights (u4 for Q4_*, u8 for Q5_*/Q6_K/Q8_0).
LoadedModel load_gguf(const std::filesystem::path& path, bool dequantize_f32 = false);

}  // namespace ovllm::model
