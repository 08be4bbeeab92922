#pragma once
// The decoder shared by the families whose layer is the Llama one (pre-RMSNorm, rotary
// attention with grouped-query heads, gated MLP) plus the per-layer pieces the other families
// reuse. A family file states only what differs through DecoderOptions.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <openvino/core/model.hpp>

#include "model/blocks.hpp"
#include "model/model_config.hpp"
#include "model/weights.hpp"

namespace ovllm::model {

// What a family changes in the Llama-style decoder.
struct DecoderOptions {
    std::string name;             // the ov::Model's name
    bool qkv_bias = false;        // q/k/v projections carry a bias (o_proj never does)
    bool qk_norm = false;         // RMSNorm over each head of q and k before RoPE
    bool sliding_window = false;  // honour the config's per-layer sliding window
};

// Builds the whole stateful model: embed_tokens, the layers, the final norm and lm_head
// (tied to the embedding table when the config says so).
std::shared_ptr<ov::Model> build_decoder(const ModelConfig& config, WeightSource& weights,
                                         const DecoderOptions& options);

// Self-attention projections of one layer under "<prefix>.self_attn". q/k norms are [head_dim]
// and present only when asked for; `norm_one_plus` loads them stored as w for x * (1 + w).
struct AttentionWeights {
    Linear q, k, v, o;
    std::optional<Out> q_norm, k_norm;
};
AttentionWeights load_attention(WeightSource& weights, const ModelConfig& config,
                                const std::string& prefix, bool qkv_bias, bool qk_norm,
                                bool norm_one_plus = false);
// gate_proj / up_proj / down_proj under "<prefix>.mlp", no biases.
GatedMlp load_gated_mlp(WeightSource& weights, const ModelConfig& config,
                        const std::string& prefix);

// The attention spec every family fills the same way; q/k norms and rope are left unset.
AttentionSpec attention_spec(const ModelConfig& config, int64_t layer, int64_t kv_heads,
                             const Out& mask);
// Runs the layer's attention on `normed` [B, S, hidden] (taking q/k norms from `w`), then
// its output projection: [B, S, hidden].
Out self_attention(const Out& normed, const AttentionWeights& w, AttentionSpec spec,
                   GraphContext& ctx);

// True when the config puts layer `layer` behind the sliding window.
bool uses_sliding_window(const ModelConfig& config, int64_t layer);
// The causal mask and, when the config has a window, the windowed one (else the same mask).
struct LayerMasks {
    Out full;
    Out window;
};
LayerMasks layer_masks(const GraphContext& ctx, const ModelConfig& config);

// model.embed_tokens.weight [vocab, hidden].
Out load_embed_tokens(WeightSource& weights, const ModelConfig& config);
// The lm_head weight [vocab, hidden]: `embed_tokens` when tied, else lm_head.weight.
Out load_lm_head(WeightSource& weights, const ModelConfig& config, const Out& embed_tokens);

}  // namespace ovllm::model
