// OPT (OPTForCausalLM): LayerNorm decoder with biases everywhere, ReLU MLP, learned absolute
// positions whose table starts at row 2, tied lm_head. do_layer_norm_before picks pre-LN
// (opt-125m and most sizes) or post-LN (opt-350m, which also has no final norm).
#include "model/arch/arch.hpp"
#include "model/decoder.hpp"
#include "util/error.hpp"

namespace ovllm::model::arch {
namespace {

// HF's OPTLearnedPositionalEmbedding reserves the first two rows.
constexpr int64_t kPositionOffset = 2;

struct LayerWeights {
    LayerNormWeights attn_norm;
    AttentionWeights attn;
    LayerNormWeights mlp_norm;
    PlainMlp mlp;
};

LayerWeights load_layer(WeightSource& w, const ModelConfig& c, int64_t i) {
    const std::string p = "model.decoder.layers." + std::to_string(i);
    const int64_t hidden = c.hidden_size;
    LayerWeights l;
    l.attn_norm = load_layer_norm(w, p + ".self_attn_layer_norm", hidden);
    l.attn.q = load_linear(w, p + ".self_attn.q_proj", hidden, hidden, true);
    l.attn.k = load_linear(w, p + ".self_attn.k_proj", hidden, hidden, true);
    l.attn.v = load_linear(w, p + ".self_attn.v_proj", hidden, hidden, true);
    l.attn.o = load_linear(w, p + ".self_attn.out_proj", hidden, hidden, true);
    l.mlp_norm = load_layer_norm(w, p + ".final_layer_norm", hidden);
    l.mlp.fc1 = load_linear(w, p + ".fc1", c.intermediate_size, hidden, true);
    l.mlp.fc2 = load_linear(w, p + ".fc2", hidden, c.intermediate_size, true);
    return l;
}

}  // namespace

std::shared_ptr<ov::Model> build_opt(const ModelConfig& c, WeightSource& w) {
    if (c.word_embed_proj_dim != 0 && c.word_embed_proj_dim != c.hidden_size) {
        throw_error("{}: OPT with word_embed_proj_dim {} != hidden_size {} is not supported",
                    w.describe(), c.word_embed_proj_dim, c.hidden_size);
    }
    GraphContext ctx = make_graph_context();
    const auto hidden = static_cast<size_t>(c.hidden_size);
    const Out table =
        w.get("model.decoder.embed_tokens.weight",
              ov::Shape{static_cast<size_t>(c.vocab_size), hidden}, WeightUse::embedding);
    const Out positions =
        w.get("model.decoder.embed_positions.weight",
              ov::Shape{static_cast<size_t>(c.max_position_embeddings + kPositionOffset), hidden},
              WeightUse::other);
    const Out mask = attention_mask(ctx, std::nullopt);

    Out x = add(embedding(table, ctx.input_ids),
                embedding(positions, shifted_positions(ctx, kPositionOffset)));
    const bool pre_norm = c.do_layer_norm_before;
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const LayerWeights l = load_layer(w, c, i);
        const AttentionSpec spec = attention_spec(c, i, c.num_attention_heads, mask);
        const Out attn_in = pre_norm ? layer_norm(x, l.attn_norm, c.norm_eps) : x;
        x = add(x, self_attention(attn_in, l.attn, spec, ctx));
        if (!pre_norm) x = layer_norm(x, l.attn_norm, c.norm_eps);
        const Out mlp_in = pre_norm ? layer_norm(x, l.mlp_norm, c.norm_eps) : x;
        x = add(x, plain_mlp(mlp_in, l.mlp, c.hidden_act));
        if (!pre_norm) x = layer_norm(x, l.mlp_norm, c.norm_eps);
    }
    if (pre_norm)
        x = layer_norm(x, load_layer_norm(w, "model.decoder.final_layer_norm", c.hidden_size),
                       c.norm_eps);
    const Out head =
        c.tie_word_embeddings
            ? table
            : w.get("lm_head.weight", ov::Shape{static_cast<size_t>(c.vocab_size), hidden},
                    WeightUse::matmul);
    return make_stateful_model(lm_head(x, head), ctx, "opt");
}

}  // namespace ovllm::model::arch
