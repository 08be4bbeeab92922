// Qwen3 (Qwen3ForCausalLM): the Llama layer plus RMSNorm over each head of q and k before
// RoPE; head_dim is its own config value (q_proj may be wider than hidden).
#include "model/arch/arch.hpp"
#include "model/decoder.hpp"

namespace ovllm::model::arch {

std::shared_ptr<ov::Model> build_qwen3(const ModelConfig& c, WeightSource& w) {
    return build_decoder(c, w, {.name = "qwen3", .qkv_bias = c.attention_bias, .qk_norm = true});
}

}  // namespace ovllm::model::arch
