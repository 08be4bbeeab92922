// Gemma 3 text models (Gemma3ForCausalLM, model_type gemma3_text). Differences from Llama:
// embeddings scaled by sqrt(hidden); every RMSNorm stores w for x * (1 + w); four norms per
// layer (input, post_attention, pre_feedforward, post_feedforward) with the post norms applied
// to each sub-block's output before the residual add; q/k norms; per-layer sliding or full
// attention (layer_types) with a local RoPE base on sliding layers; attention scale
// 1/sqrt(query_pre_attn_scalar); gelu_tanh gated MLP; tanh soft-capping of the logits.
#include <cmath>

#include <openvino/op/constant.hpp>
#include <openvino/op/multiply.hpp>
#include <openvino/op/tanh.hpp>

#include "model/arch/arch.hpp"
#include "model/blocks.hpp"

namespace ovllm::model::arch {
namespace {

struct LayerWeights {
    Out input_norm, post_attention_norm, pre_feedforward_norm, post_feedforward_norm;
    Linear q, k, v, o;
    Out q_norm, k_norm;  // [head_dim], already 1 + w
    GatedMlp mlp;
};

// Gemma norms are stored as w for y = normed * (1 + w).
Out load_gemma_norm(WeightSource& w, const std::string& name, int64_t size) {
    return one_plus(load_vector(w, name, size));
}

LayerWeights load_layer(WeightSource& w, const ModelConfig& c, int64_t i) {
    const std::string p = "model.layers." + std::to_string(i);
    const int64_t hidden = c.hidden_size;
    const int64_t q_size = c.num_attention_heads * c.head_dim;
    const int64_t kv_size = c.num_key_value_heads * c.head_dim;
    LayerWeights l;
    l.input_norm = load_gemma_norm(w, p + ".input_layernorm.weight", hidden);
    l.post_attention_norm = load_gemma_norm(w, p + ".post_attention_layernorm.weight", hidden);
    l.pre_feedforward_norm = load_gemma_norm(w, p + ".pre_feedforward_layernorm.weight", hidden);
    l.post_feedforward_norm = load_gemma_norm(w, p + ".post_feedforward_layernorm.weight", hidden);
    l.q = load_linear(w, p + ".self_attn.q_proj", q_size, hidden, c.attention_bias);
    l.k = load_linear(w, p + ".self_attn.k_proj", kv_size, hidden, c.attention_bias);
    l.v = load_linear(w, p + ".self_attn.v_proj", kv_size, hidden, c.attention_bias);
    l.o = load_linear(w, p + ".self_attn.o_proj", hidden, q_size, false);
    l.q_norm = load_gemma_norm(w, p + ".self_attn.q_norm.weight", c.head_dim);
    l.k_norm = load_gemma_norm(w, p + ".self_attn.k_norm.weight", c.head_dim);
    l.mlp.gate = load_linear(w, p + ".mlp.gate_proj", c.intermediate_size, hidden, false);
    l.mlp.up = load_linear(w, p + ".mlp.up_proj", c.intermediate_size, hidden, false);
    l.mlp.down = load_linear(w, p + ".mlp.down_proj", hidden, c.intermediate_size, false);
    return l;
}

bool uses_window(const ModelConfig& c, int64_t layer) {
    const auto index = static_cast<size_t>(layer);
    return c.sliding_window && index < c.layer_uses_sliding_window.size() &&
           c.layer_uses_sliding_window[index];
}

Out scalar(float value) {
    return ov::op::v0::Constant::create(ov::element::f32, ov::Shape{}, {value});
}

Out scale_by(const Out& x, float factor) {
    return std::make_shared<ov::op::v1::Multiply>(x, scalar(factor));
}

// cap * tanh(logits / cap)
Out soft_cap(const Out& logits, double cap) {
    const Out squashed =
        std::make_shared<ov::op::v0::Tanh>(scale_by(logits, static_cast<float>(1.0 / cap)));
    return scale_by(squashed, static_cast<float>(cap));
}

}  // namespace

std::shared_ptr<ov::Model> build_gemma3(const ModelConfig& c, WeightSource& w) {
    GraphContext ctx = make_graph_context();
    const ov::Shape table_shape{static_cast<size_t>(c.vocab_size),
                                static_cast<size_t>(c.hidden_size)};
    const Out table = w.get("model.embed_tokens.weight", table_shape, WeightUse::embedding);
    const RopeTables global_rope = rope_tables(ctx, {c.head_dim, c.rope_theta, c.rope_scaling});
    const double local_theta = c.rope_local_theta > 0.0 ? c.rope_local_theta : c.rope_theta;
    // Local layers use the plain base: HF applies rope scaling to global layers only.
    const RopeTables local_rope = rope_tables(ctx, {c.head_dim, local_theta, RopeScaling{}});
    const Out full_mask = attention_mask(ctx, std::nullopt);
    const Out window_mask = c.sliding_window ? attention_mask(ctx, c.sliding_window) : full_mask;

    // [B, S, hidden]; HF rounds sqrt(hidden) to the model dtype, f32 here.
    Out x = scale_by(embedding(table, ctx.input_ids),
                     static_cast<float>(std::sqrt(static_cast<double>(c.hidden_size))));
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const LayerWeights l = load_layer(w, c, i);
        const bool local = uses_window(c, i);
        const Out normed = rms_norm(x, l.input_norm, c.norm_eps);
        AttentionSpec spec;
        spec.layer = i;
        spec.heads = c.num_attention_heads;
        spec.kv_heads = c.num_key_value_heads;
        spec.head_dim = c.head_dim;
        spec.scale = c.attention_scale();
        spec.q_norm = l.q_norm;
        spec.k_norm = l.k_norm;
        spec.norm_eps = c.norm_eps;
        spec.rope = local ? &local_rope : &global_rope;
        spec.mask = local ? window_mask : full_mask;
        const Out attn =
            attention({linear(normed, l.q), linear(normed, l.k), linear(normed, l.v)}, spec, ctx);
        x = add(x, rms_norm(linear(attn, l.o), l.post_attention_norm, c.norm_eps));
        const Out mlp_in = rms_norm(x, l.pre_feedforward_norm, c.norm_eps);
        const Out mlp_out = gated_mlp(mlp_in, l.mlp, c.hidden_act);
        x = add(x, rms_norm(mlp_out, l.post_feedforward_norm, c.norm_eps));
    }
    x = rms_norm(x, load_gemma_norm(w, "model.norm.weight", c.hidden_size), c.norm_eps);
    const Out head =
        c.tie_word_embeddings ? table : w.get("lm_head.weight", table_shape, WeightUse::matmul);
    Out logits = lm_head(x, head);
    if (c.final_logit_softcapping && *c.final_logit_softcapping > 0.0) {
        logits = soft_cap(logits, *c.final_logit_softcapping);
    }
    return make_stateful_model(logits, ctx, "gemma3");
}

}  // namespace ovllm::model::arch
