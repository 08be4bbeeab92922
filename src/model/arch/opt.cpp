// OPT (OPTForCausalLM): LayerNorm decoder with biases everywhere, ReLU MLP, learned absolute
// positions whose table starts at row 2, tied lm_head. do_layer_norm_before picks pre-LN
// (opt-125m and most sizes) or post-LN (opt-350m, which also has no final norm).
#include "model/config_reader.hpp"
#include "model/decoder.hpp"
#include "model/family.hpp"
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

std::shared_ptr<ov::Model> build(const ModelConfig& c, WeightSource& w) {
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
    // word_embed_proj_dim == hidden_size (checked above), so the head is [vocab, hidden].
    return make_stateful_model(lm_head(x, load_lm_head(w, c, table)), ctx, "opt");
}

void read_config(const ConfigReader& reader, ModelConfig& c) {
    c.hidden_size = reader.require_int("hidden_size");
    c.num_hidden_layers = reader.require_int("num_hidden_layers");
    c.num_attention_heads = reader.require_int("num_attention_heads");
    c.intermediate_size = reader.require_int("ffn_dim");
    c.max_position_embeddings = reader.require_int("max_position_embeddings");
    c.norm_eps = 1e-5;  // OPT's LayerNorm uses the torch default
    c.do_layer_norm_before = reader.optional_bool("do_layer_norm_before", true);
    c.word_embed_proj_dim = reader.optional_int("word_embed_proj_dim").value_or(c.hidden_size);
    c.attention_bias = reader.optional_bool("enable_bias", true);
    c.hidden_act = Activation::relu;  // activation_function overrides
}

int64_t parameter_count(const ModelConfig& c) {
    const int64_t h = c.hidden_size;
    const int64_t ffn = c.intermediate_size;
    const int64_t bias = c.attention_bias ? 1 : 0;
    const int64_t layer =
        4 * (h * h + bias * h) + h * ffn + bias * ffn + ffn * h + bias * h + 4 * h;  // 2 LNs
    const int64_t proj = c.word_embed_proj_dim;
    const int64_t project = proj != h ? 2 * proj * h : 0;  // project_in / project_out
    const int64_t final_norm = c.do_layer_norm_before ? 2 * h : 0;
    return c.vocab_size * proj + (c.max_position_embeddings + kPositionOffset) * h + project +
           c.num_hidden_layers * layer + final_norm +
           (c.tie_word_embeddings ? 0 : c.vocab_size * proj);
}

// The config.json facebook/opt-125m was published with (the fields ovllm reads).
constexpr std::string_view kOpt125m = R"({
  "architectures": ["OPTForCausalLM"], "model_type": "opt", "activation_function": "relu",
  "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "ffn_dim": 3072,
  "vocab_size": 50272, "max_position_embeddings": 2048, "word_embed_proj_dim": 768,
  "do_layer_norm_before": true, "enable_bias": true, "bos_token_id": 2, "eos_token_id": 2,
  "pad_token_id": 1, "torch_dtype": "float16"
})";

constexpr std::string_view kClasses[] = {"OPTForCausalLM"};
constexpr std::string_view kTypes[] = {"opt"};
constexpr BuiltinConfig kBuiltins[] = {{"facebook/opt-125m", kOpt125m}};

}  // namespace

extern const Family opt = {.hf_classes = kClasses,
                           .model_types = kTypes,
                           .read_config = read_config,
                           .build = build,
                           .parameter_count = parameter_count,
                           .builtins = kBuiltins};

}  // namespace ovllm::model::arch
