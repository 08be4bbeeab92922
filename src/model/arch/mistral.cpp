// Mistral (MistralForCausalLM): the Llama layer with a sliding attention window on the layers
// the config marks (every layer when only `sliding_window` is set), untied lm_head.
#include "model/arch/arch.hpp"
#include "model/decoder.hpp"

namespace ovllm::model::arch {

std::shared_ptr<ov::Model> build_mistral(const ModelConfig& c, WeightSource& w) {
    return build_decoder(c, w,
                         {.name = "mistral", .qkv_bias = c.attention_bias, .sliding_window = true});
}

}  // namespace ovllm::model::arch
