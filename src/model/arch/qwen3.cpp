// Qwen3 (Qwen3ForCausalLM): the Llama layer plus RMSNorm over each head of q and k before
// RoPE; head_dim is its own config value (q_proj may be wider than hidden).
#include "model/decoder.hpp"
#include "model/family.hpp"

namespace ovllm::model::arch {
namespace {

void read_config(const ConfigReader& reader, ModelConfig& c) {
    read_decoder_config(reader, c);
    c.qk_norm = true;
}

std::shared_ptr<ov::Model> build(const ModelConfig& c, WeightSource& w) {
    return build_decoder(c, w, {.name = "qwen3", .qkv_bias = c.attention_bias, .qk_norm = true});
}

constexpr std::string_view kClasses[] = {"Qwen3ForCausalLM"};
constexpr std::string_view kTypes[] = {"qwen3"};

}  // namespace

extern const Family qwen3 = {
    .hf_classes = kClasses, .model_types = kTypes, .read_config = read_config, .build = build};

}  // namespace ovllm::model::arch
