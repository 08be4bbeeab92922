// Mistral (MistralForCausalLM): the Llama layer with a sliding attention window on the layers
// the config marks (every layer when only `sliding_window` is set), untied lm_head.
#include "model/decoder.hpp"
#include "model/family.hpp"

namespace ovllm::model::arch {
namespace {

std::shared_ptr<ov::Model> build(const ModelConfig& c, WeightSource& w) {
    return build_decoder(c, w,
                         {.name = "mistral", .qkv_bias = c.attention_bias, .sliding_window = true});
}

constexpr std::string_view kClasses[] = {"MistralForCausalLM"};
constexpr std::string_view kTypes[] = {"mistral"};

}  // namespace

extern const Family mistral = {.hf_classes = kClasses,
                               .model_types = kTypes,
                               .read_config = read_decoder_config,
                               .build = build};

}  // namespace ovllm::model::arch
