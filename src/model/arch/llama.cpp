// Llama family (LlamaForCausalLM; also SmolLM2): pre-RMSNorm decoder, rotary positions with
// optional Llama 3 frequency scaling, grouped-query attention, SiLU-gated MLP.
#include "model/arch/arch.hpp"
#include "model/blocks.hpp"

namespace ovllm::model::arch {
namespace {

struct LayerWeights {
    Out input_norm;
    Linear q, k, v, o;
    Out post_attention_norm;
    GatedMlp mlp;
};

LayerWeights load_layer(WeightSource& w, const ModelConfig& c, int64_t i) {
    const std::string p = "model.layers." + std::to_string(i);
    const int64_t hidden = c.hidden_size;
    const int64_t q_size = c.num_attention_heads * c.head_dim;
    const int64_t kv_size = c.num_key_value_heads * c.head_dim;
    LayerWeights l;
    l.input_norm = load_vector(w, p + ".input_layernorm.weight", hidden);
    l.q = load_linear(w, p + ".self_attn.q_proj", q_size, hidden, c.attention_bias);
    l.k = load_linear(w, p + ".self_attn.k_proj", kv_size, hidden, c.attention_bias);
    l.v = load_linear(w, p + ".self_attn.v_proj", kv_size, hidden, c.attention_bias);
    l.o = load_linear(w, p + ".self_attn.o_proj", hidden, q_size, false);
    l.post_attention_norm = load_vector(w, p + ".post_attention_layernorm.weight", hidden);
    l.mlp.gate = load_linear(w, p + ".mlp.gate_proj", c.intermediate_size, hidden, false);
    l.mlp.up = load_linear(w, p + ".mlp.up_proj", c.intermediate_size, hidden, false);
    l.mlp.down = load_linear(w, p + ".mlp.down_proj", hidden, c.intermediate_size, false);
    return l;
}

}  // namespace

std::shared_ptr<ov::Model> build_llama(const ModelConfig& c, WeightSource& w) {
    GraphContext ctx = make_graph_context();
    const ov::Shape table_shape{static_cast<size_t>(c.vocab_size),
                                static_cast<size_t>(c.hidden_size)};
    const Out table = w.get("model.embed_tokens.weight", table_shape, WeightUse::embedding);
    const RopeTables rope = rope_tables(ctx, {c.head_dim, c.rope_theta, c.rope_scaling});
    const Out mask = attention_mask(ctx, std::nullopt);

    Out x = embedding(table, ctx.input_ids);  // [B, S, hidden]
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const LayerWeights l = load_layer(w, c, i);
        const Out normed = rms_norm(x, l.input_norm, c.norm_eps);
        AttentionSpec spec;
        spec.layer = i;
        spec.heads = c.num_attention_heads;
        spec.kv_heads = c.num_key_value_heads;
        spec.head_dim = c.head_dim;
        spec.scale = c.attention_scale();
        spec.rope = &rope;
        spec.mask = mask;
        const Out attn =
            attention({linear(normed, l.q), linear(normed, l.k), linear(normed, l.v)}, spec, ctx);
        x = add(x, linear(attn, l.o));
        x = add(x, gated_mlp(rms_norm(x, l.post_attention_norm, c.norm_eps), l.mlp, c.hidden_act));
    }
    x = rms_norm(x, load_vector(w, "model.norm.weight", c.hidden_size), c.norm_eps);
    const Out head =
        c.tie_word_embeddings ? table : w.get("lm_head.weight", table_shape, WeightUse::matmul);
    return make_stateful_model(lm_head(x, head), ctx, "llama");
}

}  // namespace ovllm::model::arch
