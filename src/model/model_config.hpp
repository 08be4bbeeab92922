#pragma once
// A model's hyper-parameters, parsed once from config.json into typed fields.
// Every builder reads this struct; nothing downstream looks at the JSON again.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ovllm::model {

enum class Activation { silu, relu, gelu, gelu_tanh };

// rope_scaling / rope_parameters beyond the plain theta. Only "default" and "llama3" so far.
struct RopeScaling {
    std::string type = "default";
    double factor = 1.0;
    double low_freq_factor = 1.0;
    double high_freq_factor = 4.0;
    int64_t original_max_position_embeddings = 0;
};

// config.json's quantization_config of a checkpoint quantized ahead of time (packed_int4.hpp).
struct PackedQuantization {
    enum class Method { awq, gptq };
    Method method = Method::awq;
    int64_t group_size = 128;            // input channels per scale / zero point: 32, 64 or 128
    bool zero_points_minus_one = false;  // GPTQ v1 checkpoints store each zero point - 1
};

struct ModelConfig {
    std::string architecture;  // architectures[0], e.g. "LlamaForCausalLM"
    std::string model_type;    // e.g. "llama", "qwen2", "opt", "gpt2", "gemma3_text"
    int64_t hidden_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t num_key_value_heads = 0;  // = num_attention_heads when absent
    int64_t head_dim = 0;             // = hidden / heads when absent or null
    int64_t intermediate_size = 0;    // ffn_dim (opt), n_inner or 4*hidden (gpt2)
    int64_t vocab_size = 0;
    int64_t max_position_embeddings = 0;
    double norm_eps = 1e-6;         // rms_norm_eps or layer_norm_eps / layer_norm_epsilon
    double rope_theta = 10000.0;    // top-level rope_theta or rope_parameters.rope_theta
    double rope_local_theta = 0.0;  // gemma3 sliding layers (rope_local_base_freq); 0 = same
    RopeScaling rope_scaling;
    Activation hidden_act = Activation::silu;
    bool tie_word_embeddings = true;  // absent means tied
    bool attention_bias = false;      // q/k/v bias (qwen2: true; opt and gpt2: biases everywhere)
    bool qk_norm = false;  // RMSNorm over head_dim on q and k before RoPE (qwen3, gemma3)
    std::optional<int64_t> sliding_window;  // tokens; nullopt = full attention everywhere
    // Per layer: true when the layer uses the sliding window (from layer_types, or all layers
    // when a window is set and no layer_types are given). Size num_hidden_layers.
    std::vector<bool> layer_uses_sliding_window;
    std::string torch_dtype = "float32";  // "dtype" (5.x) or "torch_dtype" (4.x)
    // opt
    bool do_layer_norm_before = true;
    int64_t word_embed_proj_dim = 0;
    // gemma3
    double query_pre_attn_scalar = 0.0;             // 0 = head_dim
    std::optional<double> final_logit_softcapping;  // tanh cap on logits
    std::vector<int64_t> eos_token_ids;             // config.json's eos_token_id (int or list)
    std::optional<int64_t> bos_token_id;
    std::optional<PackedQuantization> quantization;  // AWQ / GPTQ int4 checkpoints

    // Attention scale applied to q·k: 1/sqrt(query_pre_attn_scalar or head_dim).
    double attention_scale() const;
    // Total parameter count implied by the shapes (tied lm_head counted once).
    int64_t parameter_count() const;
};

// Parses <folder>/config.json (or the file itself). Throws ovllm::Error naming the file and
// the field for a missing file, bad JSON, a missing field or a field of the wrong type.
ModelConfig load_model_config(const std::filesystem::path& path);
// The same from a parsed config.json; `name` (a file name) starts every error message.
ModelConfig parse_model_config(const nlohmann::json& root, const std::string& name);

// The built-in configs for `--load-format dummy` (vLLM's names, e.g. "facebook/opt-125m").
// Returns nullopt for an unknown name.
std::optional<ModelConfig> builtin_model_config(const std::string& name);
// The config.json text behind a built-in config (written next to a converted dummy model).
std::optional<std::string> builtin_config_json(const std::string& name);
std::vector<std::string> builtin_model_names();

}  // namespace ovllm::model
