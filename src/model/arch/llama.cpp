// Llama family (LlamaForCausalLM; also SmolLM2): pre-RMSNorm decoder, rotary positions with
// optional Llama 3 frequency scaling, grouped-query attention, SiLU-gated MLP.
#include "model/arch/arch.hpp"
#include "model/decoder.hpp"

namespace ovllm::model::arch {

std::shared_ptr<ov::Model> build_llama(const ModelConfig& c, WeightSource& w) {
    return build_decoder(c, w, {.name = "llama", .qkv_bias = c.attention_bias});
}

}  // namespace ovllm::model::arch
