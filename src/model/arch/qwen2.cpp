// Qwen2 / Qwen2.5 (Qwen2ForCausalLM): the Llama layer with q/k/v biases (o_proj has none).
// A sliding window applies only where the config enables it (use_sliding_window).
#include "model/config_reader.hpp"
#include "model/decoder.hpp"
#include "model/family.hpp"

namespace ovllm::model::arch {
namespace {

void read_config(const ConfigReader& reader, ModelConfig& c) {
    c.attention_bias = true;  // implied by the family; configs carry no key for it
    read_decoder_config(reader, c);
}

std::shared_ptr<ov::Model> build(const ModelConfig& c, WeightSource& w) {
    return build_decoder(c, w, {.name = "qwen2", .qkv_bias = true, .sliding_window = true});
}

void read_gguf_config(const GgufFile&, ModelConfig& c) {
    c.attention_bias = true;
}

// The config.json files these models were published with (the fields ovllm reads).
constexpr std::string_view kQwen15Chat18B = R"({
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
  "hidden_size": 2048, "num_hidden_layers": 24, "num_attention_heads": 16,
  "num_key_value_heads": 16, "intermediate_size": 5504, "vocab_size": 151936,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "max_window_layers": 21, "use_sliding_window": false,
  "tie_word_embeddings": false, "bos_token_id": 151643, "eos_token_id": 151645,
  "torch_dtype": "bfloat16"
})";
constexpr std::string_view kQwen15Chat4B = R"({
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
  "hidden_size": 2560, "num_hidden_layers": 40, "num_attention_heads": 20,
  "num_key_value_heads": 20, "intermediate_size": 6912, "vocab_size": 151936,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 5000000.0,
  "sliding_window": 32768, "max_window_layers": 21, "use_sliding_window": false,
  "tie_word_embeddings": false, "bos_token_id": 151643, "eos_token_id": 151645,
  "torch_dtype": "bfloat16"
})";

constexpr std::string_view kClasses[] = {"Qwen2ForCausalLM"};
constexpr std::string_view kTypes[] = {"qwen2"};
constexpr GgufMapping kGguf = {.architecture = "qwen2", .read_config = read_gguf_config};
constexpr BuiltinConfig kBuiltins[] = {
    {"Qwen/Qwen1.5-1.8B-Chat", kQwen15Chat18B},
    {"Qwen/Qwen1.5-4B-Chat", kQwen15Chat4B},
};

}  // namespace

extern const Family qwen2 = {.hf_classes = kClasses,
                             .model_types = kTypes,
                             .read_config = read_config,
                             .build = build,
                             .gguf = &kGguf,
                             .builtins = kBuiltins};

}  // namespace ovllm::model::arch
