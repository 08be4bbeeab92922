// GPT-2 (GPT2LMHeadModel): pre-LayerNorm decoder, learned absolute positions, Conv1D weights
// stored [in, out], one fused c_attn projection giving q | k | v, gelu_new MLP, tied lm_head.
#include "model/config_reader.hpp"
#include "model/decoder.hpp"
#include "model/family.hpp"

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

std::shared_ptr<ov::Model> build(const ModelConfig& c, WeightSource& w) {
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

// GPT-2 spells the sizes n_embd / n_layer / n_head / n_positions; newer configs also
// accept the common names.
void read_config(const ConfigReader& reader, ModelConfig& c) {
    c.hidden_size = require_int_any(reader, {"n_embd", "hidden_size"});
    c.num_hidden_layers = require_int_any(reader, {"n_layer", "num_hidden_layers"});
    c.num_attention_heads = require_int_any(reader, {"n_head", "num_attention_heads"});
    c.intermediate_size = reader.optional_int("n_inner").value_or(4 * c.hidden_size);
    c.max_position_embeddings = require_int_any(reader, {"n_positions", "max_position_embeddings"});
    c.norm_eps = reader.optional_number("layer_norm_epsilon", 1e-5);
    c.attention_bias = true;
    c.hidden_act = Activation::gelu_tanh;  // activation_function overrides
}

int64_t parameter_count(const ModelConfig& c) {
    const int64_t h = c.hidden_size;
    const int64_t ffn = c.intermediate_size;
    const int64_t layer = 4 * h                // ln_1, ln_2 (weight + bias)
                          + h * 3 * h + 3 * h  // c_attn
                          + h * h + h          // attn.c_proj
                          + h * ffn + ffn      // mlp.c_fc
                          + ffn * h + h;       // mlp.c_proj
    return c.vocab_size * h + c.max_position_embeddings * h + c.num_hidden_layers * layer + 2 * h +
           (c.tie_word_embeddings ? 0 : c.vocab_size * h);
}

constexpr std::string_view kClasses[] = {"GPT2LMHeadModel"};
constexpr std::string_view kTypes[] = {"gpt2"};

}  // namespace

extern const Family gpt2 = {.hf_classes = kClasses,
                            .model_types = kTypes,
                            .read_config = read_config,
                            .build = build,
                            .parameter_count = parameter_count};

}  // namespace ovllm::model::arch
