// GPT-2 (GPT2LMHeadModel): pre-LayerNorm decoder, learned absolute positions, Conv1D weights
// stored [in, out], one fused c_attn projection giving q | k | v, gelu_new MLP, tied lm_head.
#include "model/arch/arch.hpp"
#include "model/decoder.hpp"

namespace ovllm::model::arch {
namespace {

struct LayerWeights {
    LayerNormWeights attn_norm;
    Linear qkv;  // [3 * hidden, hidden]
    Linear proj;
    LayerNormWeights mlp_norm;
    PlainMlp mlp;
};

// Conv1D stores [in, out]; the source hands it back as [out, in].
Linear load_conv1d(WeightSource& w, const std::string& prefix, int64_t out, int64_t in) {
    return load_linear(w, prefix, out, in, true, WeightUse::matmul_transposed);
}

LayerWeights load_layer(WeightSource& w, const std::string& root, const ModelConfig& c, int64_t i) {
    const std::string p = root + "h." + std::to_string(i);
    const int64_t hidden = c.hidden_size;
    LayerWeights l;
    l.attn_norm = load_layer_norm(w, p + ".ln_1", hidden);
    l.qkv = load_conv1d(w, p + ".attn.c_attn", 3 * hidden, hidden);
    l.proj = load_conv1d(w, p + ".attn.c_proj", hidden, hidden);
    l.mlp_norm = load_layer_norm(w, p + ".ln_2", hidden);
    l.mlp.fc1 = load_conv1d(w, p + ".mlp.c_fc", c.intermediate_size, hidden);
    l.mlp.fc2 = load_conv1d(w, p + ".mlp.c_proj", hidden, c.intermediate_size);
    return l;
}

}  // namespace

std::shared_ptr<ov::Model> build_gpt2(const ModelConfig& c, WeightSource& w) {
    // Files saved from GPT2LMHeadModel prefix every tensor with "transformer."; Hub
    // checkpoints of the base model do not.
    const std::string root = w.contains("transformer.wte.weight") ? "transformer." : "";
    GraphContext ctx = make_graph_context();
    const auto hidden = static_cast<size_t>(c.hidden_size);
    const Out table =
        w.get(root + "wte.weight", ov::Shape{static_cast<size_t>(c.vocab_size), hidden},
              WeightUse::embedding);
    const Out positions =
        w.get(root + "wpe.weight",
              ov::Shape{static_cast<size_t>(c.max_position_embeddings), hidden}, WeightUse::other);
    const Out mask = attention_mask(ctx, std::nullopt);

    Out x = add(embedding(table, ctx.input_ids), embedding(positions, ctx.position_ids));
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const LayerWeights l = load_layer(w, root, c, i);
        const std::vector<Out> qkv =
            split_last_axis(linear(layer_norm(x, l.attn_norm, c.norm_eps), l.qkv),
                            {c.hidden_size, c.hidden_size, c.hidden_size});
        const AttentionSpec spec = attention_spec(c, i, c.num_attention_heads, mask);
        x = add(x, linear(attention({qkv[0], qkv[1], qkv[2]}, spec, ctx), l.proj));
        x = add(x, plain_mlp(layer_norm(x, l.mlp_norm, c.norm_eps), l.mlp, c.hidden_act));
    }
    x = layer_norm(x, load_layer_norm(w, root + "ln_f", c.hidden_size), c.norm_eps);
    return make_stateful_model(lm_head(x, table), ctx, "gpt2");
}

}  // namespace ovllm::model::arch
