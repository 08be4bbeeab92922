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

#include "model/config_reader.hpp"
#include "model/decoder.hpp"
#include "model/family.hpp"
#include "model/gguf.hpp"

namespace ovllm::model::arch {
namespace {

struct LayerWeights {
    Out input_norm, post_attention_norm, pre_feedforward_norm, post_feedforward_norm;
    AttentionWeights attn;  // q/k norms [head_dim], already 1 + w
    GatedMlp mlp;
};

// Gemma norms are stored as w for y = normed * (1 + w).
Out load_gemma_norm(WeightSource& w, const std::string& name, int64_t size) {
    return one_plus(load_vector(w, name, size));
}

LayerWeights load_layer(WeightSource& w, const ModelConfig& c, int64_t i) {
    const std::string p = "model.layers." + std::to_string(i);
    const int64_t hidden = c.hidden_size;
    LayerWeights l;
    l.input_norm = load_gemma_norm(w, p + ".input_layernorm.weight", hidden);
    l.post_attention_norm = load_gemma_norm(w, p + ".post_attention_layernorm.weight", hidden);
    l.pre_feedforward_norm = load_gemma_norm(w, p + ".pre_feedforward_layernorm.weight", hidden);
    l.post_feedforward_norm = load_gemma_norm(w, p + ".post_feedforward_layernorm.weight", hidden);
    l.attn = load_attention(w, c, p, c.attention_bias, /*qk_norm=*/true, /*norm_one_plus=*/true);
    l.mlp = load_gated_mlp(w, c, p);
    return l;
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

std::shared_ptr<ov::Model> build(const ModelConfig& c, WeightSource& w) {
    GraphContext ctx = make_graph_context();
    const Out table = load_embed_tokens(w, c);
    const RopeTables global_rope = rope_tables(ctx, {c.head_dim, c.rope_theta, c.rope_scaling});
    const double local_theta = c.rope_local_theta > 0.0 ? c.rope_local_theta : c.rope_theta;
    // Local layers use the plain base: HF applies rope scaling to global layers only.
    const RopeTables local_rope = rope_tables(ctx, {c.head_dim, local_theta, RopeScaling{}});
    const LayerMasks masks = layer_masks(ctx, c);

    // [B, S, hidden]; HF rounds sqrt(hidden) to the model dtype, f32 here.
    Out x = scale_by(embedding(table, ctx.input_ids),
                     static_cast<float>(std::sqrt(static_cast<double>(c.hidden_size))));
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const LayerWeights l = load_layer(w, c, i);
        const bool local = uses_sliding_window(c, i);
        AttentionSpec spec =
            attention_spec(c, i, c.num_key_value_heads, local ? masks.window : masks.full);
        spec.rope = local ? &local_rope : &global_rope;
        const Out attn = self_attention(rms_norm(x, l.input_norm, c.norm_eps), l.attn, spec, ctx);
        x = add(x, rms_norm(attn, l.post_attention_norm, c.norm_eps));
        const Out mlp_in = rms_norm(x, l.pre_feedforward_norm, c.norm_eps);
        const Out mlp_out = gated_mlp(mlp_in, l.mlp, c.hidden_act);
        x = add(x, rms_norm(mlp_out, l.post_feedforward_norm, c.norm_eps));
    }
    x = rms_norm(x, load_gemma_norm(w, "model.norm.weight", c.hidden_size), c.norm_eps);
    const Out head = load_lm_head(w, c, table);
    Out logits = lm_head(x, head);
    if (c.final_logit_softcapping && *c.final_logit_softcapping > 0.0) {
        logits = soft_cap(logits, *c.final_logit_softcapping);
    }
    return make_stateful_model(logits, ctx, "gemma3");
}

void read_config(const ConfigReader& reader, ModelConfig& c) {
    c.hidden_act = Activation::gelu_tanh;  // hidden_activation overrides
    read_decoder_config(reader, c);
    c.qk_norm = true;
    c.query_pre_attn_scalar = reader.optional_number("query_pre_attn_scalar", 0.0);
}

// Four [hidden] norms per layer: input, post_attention, pre_ and post_feedforward.
int64_t parameter_count(const ModelConfig& c) {
    return decoder_parameter_count(c, 4);
}

// llama.cpp names gemma3's extra norms after their place in the block.
std::optional<std::string> gguf_layer_module(const std::string& module) {
    if (module == "post_attention_layernorm") return "post_attention_norm";
    if (module == "pre_feedforward_layernorm") return "ffn_norm";
    if (module == "post_feedforward_layernorm") return "post_ffw_norm";
    return std::nullopt;
}

// llama.cpp's gemma3: local RoPE base 10000, every 6th layer global, attention scale
// 1/sqrt(key_length).
void read_gguf_config(const GgufFile& f, ModelConfig& c) {
    const std::string k = "gemma3.";
    c.hidden_act = Activation::gelu_tanh;
    c.qk_norm = true;
    c.rope_local_theta = 10000.0;
    c.query_pre_attn_scalar = static_cast<double>(c.head_dim);
    c.sliding_window = f.get_int(k + "attention.sliding_window");
    for (size_t i = 0; i < c.layer_uses_sliding_window.size(); ++i) {
        c.layer_uses_sliding_window[i] = c.sliding_window && (i + 1) % 6 != 0;
    }
    if (const auto cap = f.get_number(k + "final_logit_softcapping"); cap && *cap > 0.0) {
        c.final_logit_softcapping = *cap;
    }
}

// The converter stores every norm as 1 + w; the builder applies 1 + w itself.
float gguf_value_offset(const std::string& hf_name) {
    return hf_name.find("norm.weight") != std::string::npos ? -1.0f : 0.0f;
}

constexpr std::string_view kClasses[] = {"Gemma3ForCausalLM"};
constexpr std::string_view kTypes[] = {"gemma3_text", "gemma3"};
constexpr GgufMapping kGguf = {.architecture = "gemma3",
                               .layer_module = gguf_layer_module,
                               .read_config = read_gguf_config,
                               .value_offset = gguf_value_offset};

}  // namespace

extern const Family gemma3 = {.hf_classes = kClasses,
                              .model_types = kTypes,
                              .read_config = read_config,
                              .build = build,
                              .parameter_count = parameter_count,
                              .gguf = &kGguf};

}  // namespace ovllm::model::arch
