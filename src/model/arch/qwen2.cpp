// Qwen2 / Qwen2.5 (Qwen2ForCausalLM): the Llama layer with q/k/v biases (o_proj has none).
// A sliding window applies only where the config enables it (use_sliding_window).
#include "model/arch/arch.hpp"
#include "model/decoder.hpp"

namespace ovllm::model::arch {

std::shared_ptr<ov::Model> build_qwen2(const ModelConfig& c, WeightSource& w) {
    return build_decoder(c, w, {.name = "qwen2", .qkv_bias = true, .sliding_window = true});
}

}  // namespace ovllm::model::arch
