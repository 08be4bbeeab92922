#include "model/blocks.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include <fmt/format.h>
#include <openvino/op/add.hpp>
#include <openvino/op/assign.hpp>
#include <openvino/op/bitwise_and.hpp>
#include <openvino/op/broadcast.hpp>
#include <openvino/op/concat.hpp>
#include <openvino/op/constant.hpp>
#include <openvino/op/convert.hpp>
#include <openvino/op/cos.hpp>
#include <openvino/op/divide.hpp>
#include <openvino/op/gather.hpp>
#include <openvino/op/gelu.hpp>
#include <openvino/op/greater.hpp>
#include <openvino/op/less_eq.hpp>
#include <openvino/op/logical_and.hpp>
#include <openvino/op/matmul.hpp>
#include <openvino/op/multiply.hpp>
#include <openvino/op/mvn.hpp>
#include <openvino/op/negative.hpp>
#include <openvino/op/not_equal.hpp>
#include <openvino/op/power.hpp>
#include <openvino/op/range.hpp>
#include <openvino/op/read_value.hpp>
#include <openvino/op/reduce_mean.hpp>
#include <openvino/op/relu.hpp>
#include <openvino/op/reshape.hpp>
#include <openvino/op/result.hpp>
#include <openvino/op/scaled_dot_product_attention.hpp>
#include <openvino/op/select.hpp>
#include <openvino/op/shape_of.hpp>
#include <openvino/op/sin.hpp>
#include <openvino/op/sqrt.hpp>
#include <openvino/op/subtract.hpp>
#include <openvino/op/swish.hpp>
#include <openvino/op/transpose.hpp>
#include <openvino/op/unsqueeze.hpp>
#include <openvino/op/variadic_split.hpp>

#include "util/error.hpp"

namespace ovllm::model {
namespace {

namespace op = ov::op;

Out i64_const(std::vector<int64_t> values) {
    return op::v0::Constant::create(ov::element::i64, ov::Shape{values.size()}, values);
}
Out i64_scalar(int64_t value) {
    return op::v0::Constant::create(ov::element::i64, ov::Shape{}, {value});
}
Out f32_scalar(float value) {
    return op::v0::Constant::create(ov::element::f32, ov::Shape{}, {value});
}

std::shared_ptr<op::v0::Parameter> named_parameter(const std::string& name, ov::element::Type type,
                                                   const ov::PartialShape& shape) {
    auto param = std::make_shared<op::v0::Parameter>(type, shape);
    param->set_friendly_name(name);
    param->output(0).set_names({name});
    return param;
}

// Dimension `axis` of `x`'s shape as an i64 scalar.
Out dim_of(const Out& x, int64_t axis) {
    const auto shape = std::make_shared<op::v3::ShapeOf>(x, ov::element::i64);
    return std::make_shared<op::v8::Gather>(shape, i64_scalar(axis), i64_scalar(0));
}

// Rotary inverse frequencies [D/2], with Llama 3 scaling applied when configured.
std::vector<float> inverse_frequencies(const RopeSpec& spec) {
    const int64_t half = spec.head_dim / 2;
    std::vector<float> inv(static_cast<size_t>(half));
    const RopeScaling& s = spec.scaling;
    for (int64_t i = 0; i < half; ++i) {
        const auto exponent = static_cast<float>(2 * i) / static_cast<float>(spec.head_dim);
        double freq = 1.0 / std::pow(spec.theta, static_cast<double>(exponent));
        if (s.type == "llama3") {
            const double orig = static_cast<double>(s.original_max_position_embeddings);
            const double low_wavelen = orig / s.low_freq_factor;
            const double high_wavelen = orig / s.high_freq_factor;
            const double wavelen = 2.0 * std::numbers::pi / freq;
            if (wavelen > low_wavelen) {
                freq /= s.factor;
            } else if (wavelen >= high_wavelen) {
                const double smooth =
                    (orig / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
                freq = (1.0 - smooth) * freq / s.factor + smooth * freq;
            }
        } else if (s.type != "default") {
            throw_error("rope_scaling type '{}' is not supported (supported: default, llama3)",
                        s.type);
        }
        inv[static_cast<size_t>(i)] = static_cast<float>(freq);
    }
    return inv;
}

// Expands K or V [B, KVH, L, D] to [B, H, L, D] for grouped-query attention.
Out expand_groups(const Out& kv, const AttentionSpec& spec) {
    const int64_t group = spec.heads / spec.kv_heads;
    if (group == 1) return kv;
    const auto unsqueezed = std::make_shared<op::v0::Unsqueeze>(kv, i64_scalar(2));
    const auto broadcast = std::make_shared<op::v3::Broadcast>(
        unsqueezed, i64_const({1, 1, group, 1, 1}), ov::op::BroadcastType::BIDIRECTIONAL);
    return std::make_shared<op::v1::Reshape>(broadcast,
                                             i64_const({0, spec.heads, -1, spec.head_dim}), true);
}

// [B, S, heads * D] -> [B, heads, S, D]
Out split_heads(const Out& x, int64_t heads, int64_t head_dim) {
    const auto reshaped =
        std::make_shared<op::v1::Reshape>(x, i64_const({0, 0, heads, head_dim}), true);
    return std::make_shared<op::v1::Transpose>(reshaped, i64_const({0, 2, 1, 3}));
}

// Appends `current` [B, KVH, S, D] to the layer's state and returns past + current [B, KVH, L, D].
Out append_to_state(const Out& current, const std::string& id, const AttentionSpec& spec,
                    GraphContext& ctx) {
    const auto variable = std::make_shared<op::util::Variable>(op::util::VariableInfo{
        ov::PartialShape{-1, spec.kv_heads, -1, spec.head_dim}, ov::element::f32, id});
    // The initial value must have a static 0 on the sequence axis.
    const auto init_shape = std::make_shared<op::v0::Concat>(
        ov::OutputVector{ctx.batch, i64_const({spec.kv_heads}), i64_const({0}),
                         i64_const({spec.head_dim})},
        0);
    const auto init = std::make_shared<op::v3::Broadcast>(f32_scalar(0.0f), init_shape);
    const auto read = std::make_shared<op::v6::ReadValue>(init, variable);
    const auto past = std::make_shared<op::v8::Gather>(read, ctx.beam_idx, i64_scalar(0));
    const auto all = std::make_shared<op::v0::Concat>(ov::OutputVector{past, current}, 2);
    ctx.sinks.push_back(std::make_shared<op::v6::Assign>(all, variable));
    ctx.variables.push_back(variable);
    return all;
}

}  // namespace

GraphContext make_graph_context() {
    GraphContext ctx;
    ctx.input_ids = named_parameter("input_ids", ov::element::i64, {-1, -1});
    ctx.attention_mask = named_parameter("attention_mask", ov::element::i64, {-1, -1});
    ctx.position_ids = named_parameter("position_ids", ov::element::i64, {-1, -1});
    ctx.beam_idx = named_parameter("beam_idx", ov::element::i32, {-1});
    const auto shape = std::make_shared<op::v3::ShapeOf>(ctx.input_ids, ov::element::i64);
    ctx.batch = std::make_shared<op::v8::Gather>(shape, i64_const({0}), i64_scalar(0));
    return ctx;
}

Out attention_mask(const GraphContext& ctx, std::optional<int64_t> sliding_window) {
    const Out q_len = dim_of(ctx.input_ids, 1);
    const Out kv_len = dim_of(ctx.attention_mask, 1);
    const Out past = std::make_shared<op::v1::Subtract>(kv_len, q_len);
    // Absolute positions: queries [S, 1], keys [1, L].
    const Out q_idx = std::make_shared<op::v0::Unsqueeze>(
        std::make_shared<op::v4::Range>(past, kv_len, i64_scalar(1), ov::element::i64),
        i64_scalar(1));
    const Out kv_idx = std::make_shared<op::v0::Unsqueeze>(
        std::make_shared<op::v4::Range>(i64_scalar(0), kv_len, i64_scalar(1), ov::element::i64),
        i64_scalar(0));
    const Out causal = std::make_shared<op::v1::LessEqual>(kv_idx, q_idx);  // [S, L]
    const Out padding = std::make_shared<op::v0::Unsqueeze>(                // [B, 1, 1, L]
        std::make_shared<op::v1::NotEqual>(ctx.attention_mask, i64_scalar(0)), i64_const({1, 2}));
    Out allowed;
    if (sliding_window) {
        // kv_idx > q_idx - window, joined by a chain of BitwiseAnd ending in a Broadcast and a
        // Select: the paged pass reads the window back from the Add's constant.
        const Out shifted = std::make_shared<op::v1::Add>(q_idx, i64_scalar(-*sliding_window));
        const Out in_window = std::make_shared<op::v1::Greater>(kv_idx, shifted);
        const Out yes = op::v0::Constant::create(ov::element::boolean, ov::Shape{}, {true});
        Out chain = std::make_shared<op::v13::BitwiseAnd>(causal, in_window);
        chain = std::make_shared<op::v13::BitwiseAnd>(chain, padding);
        chain = std::make_shared<op::v13::BitwiseAnd>(yes, chain);
        chain = std::make_shared<op::v13::BitwiseAnd>(chain, yes);
        const auto target = std::make_shared<op::v0::Concat>(
            ov::OutputVector{ctx.batch, i64_const({1}),
                             std::make_shared<op::v0::Unsqueeze>(q_len, i64_scalar(0)),
                             std::make_shared<op::v0::Unsqueeze>(kv_len, i64_scalar(0))},
            0);
        allowed = std::make_shared<op::v3::Broadcast>(chain, target);
    } else {
        allowed = std::make_shared<op::v1::LogicalAnd>(causal, padding);
    }
    return std::make_shared<op::v1::Select>(allowed, f32_scalar(0.0f),
                                            f32_scalar(-std::numeric_limits<float>::infinity()));
}

RopeTables rope_tables(const GraphContext& ctx, const RopeSpec& spec) {
    const std::vector<float> inv = inverse_frequencies(spec);
    const auto inv_freq = op::v0::Constant::create(ov::element::f32, ov::Shape{inv.size()}, inv);
    const auto positions = std::make_shared<op::v0::Unsqueeze>(
        std::make_shared<op::v0::Convert>(ctx.position_ids, ov::element::f32), i64_scalar(-1));
    const auto freqs = std::make_shared<op::v1::Multiply>(positions, inv_freq);  // [B, S, D/2]
    const auto angles = std::make_shared<op::v0::Concat>(ov::OutputVector{freqs, freqs}, -1);
    const auto per_head = [](const Out& x) -> Out {
        return std::make_shared<op::v0::Unsqueeze>(x, i64_scalar(1));  // [B, 1, S, D]
    };
    return {per_head(std::make_shared<op::v0::Cos>(angles)),
            per_head(std::make_shared<op::v0::Sin>(angles))};
}

Out apply_rope(const Out& x, const RopeTables& rope) {
    const int64_t d = x.get_partial_shape()[3].get_length();
    const auto halves =
        std::make_shared<op::v1::VariadicSplit>(x, i64_scalar(-1), i64_const({d / 2, d / 2}));
    const auto rotated = std::make_shared<op::v0::Concat>(
        ov::OutputVector{std::make_shared<op::v0::Negative>(halves->output(1)), halves->output(0)},
        -1);
    return std::make_shared<op::v1::Add>(std::make_shared<op::v1::Multiply>(x, rope.cos),
                                         std::make_shared<op::v1::Multiply>(rotated, rope.sin));
}

Out embedding(const Out& table, const Out& ids) {
    return std::make_shared<op::v8::Gather>(table, ids, i64_scalar(0));
}

Out rms_norm(const Out& x, const Out& weight, double eps) {
    const auto squared = std::make_shared<op::v1::Power>(x, f32_scalar(2.0f));
    const auto mean = std::make_shared<op::v1::ReduceMean>(squared, i64_const({-1}), true);
    const auto root = std::make_shared<op::v0::Sqrt>(
        std::make_shared<op::v1::Add>(mean, f32_scalar(static_cast<float>(eps))));
    const auto inverse = std::make_shared<op::v1::Divide>(f32_scalar(1.0f), root);
    const auto normed = std::make_shared<op::v1::Multiply>(x, inverse);
    return std::make_shared<op::v1::Multiply>(normed, weight);
}

Out one_plus(const Out& weight) {
    return std::make_shared<op::v1::Add>(weight, f32_scalar(1.0f));
}

Out layer_norm(const Out& x, const Out& weight, const Out& bias, double eps) {
    const auto normed = std::make_shared<op::v6::MVN>(
        x, i64_const({-1}), true, static_cast<float>(eps), ov::op::MVNEpsMode::INSIDE_SQRT);
    return std::make_shared<op::v1::Add>(std::make_shared<op::v1::Multiply>(normed, weight), bias);
}

Out linear(const Out& x, const Linear& proj) {
    Out y = std::make_shared<op::v0::MatMul>(x, proj.weight, false, true);
    if (proj.bias) y = std::make_shared<op::v1::Add>(y, *proj.bias);
    return y;
}

Out activation(const Out& x, Activation act) {
    switch (act) {
        case Activation::silu:
            return std::make_shared<op::v4::Swish>(x);
        case Activation::relu:
            return std::make_shared<op::v0::Relu>(x);
        case Activation::gelu:
            return std::make_shared<op::v7::Gelu>(x, ov::op::GeluApproximationMode::ERF);
        case Activation::gelu_tanh:
            return std::make_shared<op::v7::Gelu>(x, ov::op::GeluApproximationMode::TANH);
    }
    throw_error("unknown activation");
}

Out add(const Out& a, const Out& b) {
    return std::make_shared<op::v1::Add>(a, b);
}

std::vector<Out> split_last_axis(const Out& x, const std::vector<int64_t>& sizes) {
    const auto split = std::make_shared<op::v1::VariadicSplit>(x, i64_scalar(-1), i64_const(sizes));
    std::vector<Out> pieces;
    for (size_t i = 0; i < sizes.size(); ++i) pieces.push_back(split->output(i));
    return pieces;
}

Out shifted_positions(const GraphContext& ctx, int64_t offset) {
    return std::make_shared<op::v1::Add>(ctx.position_ids, i64_scalar(offset));
}

Linear load_linear(WeightSource& weights, const std::string& prefix, int64_t out, int64_t in,
                   bool with_bias, WeightUse use) {
    Linear proj;
    proj.weight = weights.get(prefix + ".weight",
                              ov::Shape{static_cast<size_t>(out), static_cast<size_t>(in)}, use);
    if (with_bias) proj.bias = load_vector(weights, prefix + ".bias", out);
    return proj;
}

Out load_vector(WeightSource& weights, const std::string& name, int64_t size) {
    return weights.get(name, ov::Shape{static_cast<size_t>(size)}, WeightUse::other);
}

LayerNormWeights load_layer_norm(WeightSource& weights, const std::string& prefix, int64_t size) {
    return {load_vector(weights, prefix + ".weight", size),
            load_vector(weights, prefix + ".bias", size)};
}

Out layer_norm(const Out& x, const LayerNormWeights& norm, double eps) {
    return layer_norm(x, norm.weight, norm.bias, eps);
}

Out attention(const QkvProjections& qkv, const AttentionSpec& spec, GraphContext& ctx) {
    if (spec.kv_heads <= 0 || spec.heads % spec.kv_heads != 0) {
        throw_error("num_attention_heads {} is not a multiple of num_key_value_heads {}",
                    spec.heads, spec.kv_heads);
    }
    Out q = split_heads(qkv.q, spec.heads, spec.head_dim);  // [B, H, S, D]
    Out k = split_heads(qkv.k, spec.kv_heads, spec.head_dim);
    const Out v = split_heads(qkv.v, spec.kv_heads, spec.head_dim);
    if (spec.q_norm) q = rms_norm(q, *spec.q_norm, spec.norm_eps);
    if (spec.k_norm) k = rms_norm(k, *spec.k_norm, spec.norm_eps);
    if (spec.rope) {
        q = apply_rope(q, *spec.rope);
        k = apply_rope(k, *spec.rope);
    }
    const std::string prefix = fmt::format("past_key_values.{}", spec.layer);
    const Out keys = expand_groups(append_to_state(k, prefix + ".key", spec, ctx), spec);
    const Out values = expand_groups(append_to_state(v, prefix + ".value", spec, ctx), spec);
    const auto sdpa = std::make_shared<op::v13::ScaledDotProductAttention>(
        q, keys, values, spec.mask, f32_scalar(static_cast<float>(spec.scale)), false);
    const auto merged = std::make_shared<op::v1::Transpose>(sdpa, i64_const({0, 2, 1, 3}));
    return std::make_shared<op::v1::Reshape>(merged, i64_const({0, 0, spec.heads * spec.head_dim}),
                                             true);
}

Out gated_mlp(const Out& x, const GatedMlp& mlp, Activation act) {
    const auto gated =
        std::make_shared<op::v1::Multiply>(activation(linear(x, mlp.gate), act), linear(x, mlp.up));
    return linear(gated, mlp.down);
}

Out plain_mlp(const Out& x, const PlainMlp& mlp, Activation act) {
    return linear(activation(linear(x, mlp.fc1), act), mlp.fc2);
}

Out lm_head(const Out& hidden, const Out& weight) {
    const auto logits = std::make_shared<op::v0::MatMul>(hidden, weight, false, true);
    logits->set_friendly_name(kLmHeadName);
    return logits;
}

std::shared_ptr<ov::Model> make_stateful_model(const Out& logits, const GraphContext& ctx,
                                               const std::string& name) {
    const auto result = std::make_shared<op::v0::Result>(logits);
    result->output(0).set_names({"logits"});
    result->get_input_tensor(0).set_names({"logits"});
    return std::make_shared<ov::Model>(
        ov::ResultVector{result}, ctx.sinks,
        ov::ParameterVector{ctx.input_ids, ctx.attention_mask, ctx.position_ids, ctx.beam_idx},
        ctx.variables, name);
}

}  // namespace ovllm::model
