#include "model/decoder.hpp"

namespace ovllm::model {
namespace {

struct LayerWeights {
    Out input_norm;
    AttentionWeights attn;
    Out post_attention_norm;
    GatedMlp mlp;
};

LayerWeights load_layer(WeightSource& w, const ModelConfig& c, const DecoderOptions& o, int64_t i) {
    const std::string p = "model.layers." + std::to_string(i);
    LayerWeights l;
    l.input_norm = load_vector(w, p + ".input_layernorm.weight", c.hidden_size);
    l.attn = load_attention(w, c, p, o.qkv_bias, o.qk_norm);
    l.post_attention_norm = load_vector(w, p + ".post_attention_layernorm.weight", c.hidden_size);
    l.mlp = load_gated_mlp(w, c, p);
    return l;
}

}  // namespace

AttentionWeights load_attention(WeightSource& w, const ModelConfig& c, const std::string& prefix,
                                bool qkv_bias, bool qk_norm, bool norm_one_plus) {
    const std::string p = prefix + ".self_attn";
    const int64_t hidden = c.hidden_size;
    const int64_t q_size = c.num_attention_heads * c.head_dim;
    const int64_t kv_size = c.num_key_value_heads * c.head_dim;
    AttentionWeights a;
    a.q = load_linear(w, p + ".q_proj", q_size, hidden, qkv_bias);
    a.k = load_linear(w, p + ".k_proj", kv_size, hidden, qkv_bias);
    a.v = load_linear(w, p + ".v_proj", kv_size, hidden, qkv_bias);
    a.o = load_linear(w, p + ".o_proj", hidden, q_size, false);
    if (qk_norm) {
        const Out q_norm = load_vector(w, p + ".q_norm.weight", c.head_dim);
        const Out k_norm = load_vector(w, p + ".k_norm.weight", c.head_dim);
        a.q_norm = norm_one_plus ? one_plus(q_norm) : q_norm;
        a.k_norm = norm_one_plus ? one_plus(k_norm) : k_norm;
    }
    return a;
}

GatedMlp load_gated_mlp(WeightSource& w, const ModelConfig& c, const std::string& prefix) {
    const std::string p = prefix + ".mlp";
    GatedMlp mlp;
    mlp.gate = load_linear(w, p + ".gate_proj", c.intermediate_size, c.hidden_size, false);
    mlp.up = load_linear(w, p + ".up_proj", c.intermediate_size, c.hidden_size, false);
    mlp.down = load_linear(w, p + ".down_proj", c.hidden_size, c.intermediate_size, false);
    return mlp;
}

AttentionSpec attention_spec(const ModelConfig& c, int64_t layer, int64_t kv_heads,
                             const Out& mask) {
    AttentionSpec spec;
    spec.layer = layer;
    spec.heads = c.num_attention_heads;
    spec.kv_heads = kv_heads;
    spec.head_dim = c.head_dim;
    spec.scale = c.attention_scale();
    spec.norm_eps = c.norm_eps;
    spec.mask = mask;
    return spec;
}

Out self_attention(const Out& normed, const AttentionWeights& w, AttentionSpec spec,
                   GraphContext& ctx) {
    spec.q_norm = w.q_norm;
    spec.k_norm = w.k_norm;
    const Out attn =
        attention({linear(normed, w.q), linear(normed, w.k), linear(normed, w.v)}, spec, ctx);
    return linear(attn, w.o);
}

bool uses_sliding_window(const ModelConfig& c, int64_t layer) {
    const auto index = static_cast<size_t>(layer);
    return c.sliding_window && index < c.layer_uses_sliding_window.size() &&
           c.layer_uses_sliding_window[index];
}

LayerMasks layer_masks(const GraphContext& ctx, const ModelConfig& c) {
    const Out full = attention_mask(ctx, std::nullopt);
    return {full, c.sliding_window ? attention_mask(ctx, c.sliding_window) : full};
}

Out load_embed_tokens(WeightSource& w, const ModelConfig& c) {
    const ov::Shape shape{static_cast<size_t>(c.vocab_size), static_cast<size_t>(c.hidden_size)};
    return w.get("model.embed_tokens.weight", shape, WeightUse::embedding);
}

Out load_lm_head(WeightSource& w, const ModelConfig& c, const Out& embed_tokens) {
    if (c.tie_word_embeddings) return embed_tokens;
    const ov::Shape shape{static_cast<size_t>(c.vocab_size), static_cast<size_t>(c.hidden_size)};
    return w.get("lm_head.weight", shape, WeightUse::matmul);
}

std::shared_ptr<ov::Model> build_decoder(const ModelConfig& c, WeightSource& w,
                                         const DecoderOptions& o) {
    GraphContext ctx = make_graph_context();
    const Out table = load_embed_tokens(w, c);
    const RopeTables rope = rope_tables(ctx, {c.head_dim, c.rope_theta, c.rope_scaling});
    // Families without a window never build the windowed mask.
    const LayerMasks masks = o.sliding_window
                                 ? layer_masks(ctx, c)
                                 : LayerMasks{attention_mask(ctx, std::nullopt), Out{}};

    Out x = embedding(table, ctx.input_ids);  // [B, S, hidden]
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const LayerWeights l = load_layer(w, c, o, i);
        const bool windowed = o.sliding_window && uses_sliding_window(c, i);
        AttentionSpec spec =
            attention_spec(c, i, c.num_key_value_heads, windowed ? masks.window : masks.full);
        spec.rope = &rope;
        x = add(x, self_attention(rms_norm(x, l.input_norm, c.norm_eps), l.attn, spec, ctx));
        x = add(x, gated_mlp(rms_norm(x, l.post_attention_norm, c.norm_eps), l.mlp, c.hidden_act));
    }
    x = rms_norm(x, load_vector(w, "model.norm.weight", c.hidden_size), c.norm_eps);
    return make_stateful_model(lm_head(x, load_lm_head(w, c, table)), ctx, o.name);
}

}  // namespace ovllm::model
