#pragma once
// Graph pieces every architecture composes. They build the stateful form that
// ov::pass::SDPAToPagedAttention recognises (see paged.hpp): named inputs, one KV variable
// pair per layer read through Gather(beam_idx), and v13 SDPA with an explicit mask.
// Shapes in comments: B batch, S new tokens, L past + new tokens, H heads, D head_dim.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <openvino/core/model.hpp>
#include <openvino/core/node_output.hpp>
#include <openvino/op/parameter.hpp>
#include <openvino/op/util/variable.hpp>

#include "model/model_config.hpp"
#include "model/weights.hpp"

namespace ovllm::model {

using Out = ov::Output<ov::Node>;

// The stateful model's inputs and the KV state collected while layers are added.
struct GraphContext {
    std::shared_ptr<ov::op::v0::Parameter> input_ids;       // i64 [B, S]
    std::shared_ptr<ov::op::v0::Parameter> attention_mask;  // i64 [B, L]
    std::shared_ptr<ov::op::v0::Parameter> position_ids;    // i64 [B, S]
    std::shared_ptr<ov::op::v0::Parameter> beam_idx;        // i32 [B]
    Out batch;                                              // i64 [1]: B
    ov::SinkVector sinks;                                   // Assign per KV variable
    ov::op::util::VariableVector variables;
};
GraphContext make_graph_context();

// Float mask [B, 1, S, L]: 0 where query i may see key j, -inf elsewhere. Causal, honours
// attention_mask padding, and with a window keeps only j > i - window (the current token and
// the window-1 before it), in the shape the paged pass reads the window size from.
Out attention_mask(const GraphContext& ctx, std::optional<int64_t> sliding_window);

struct RopeSpec {
    int64_t head_dim = 0;
    double theta = 10000.0;
    RopeScaling scaling;
};
// cos/sin of the rotary angles for the model's position_ids: [B, 1, S, D] each.
struct RopeTables {
    Out cos;
    Out sin;
};
RopeTables rope_tables(const GraphContext& ctx, const RopeSpec& spec);
// Rotates x [B, H, S, D] by halves (x * cos + rotate_half(x) * sin).
Out apply_rope(const Out& x, const RopeTables& rope);

// Rows of `table` [vocab, hidden] for `ids` [B, S] -> [B, S, hidden].
Out embedding(const Out& table, const Out& ids);
// x * rsqrt(mean(x^2) + eps) * weight over the last axis.
Out rms_norm(const Out& x, const Out& weight, double eps);
// 1 + weight, for norms stored gemma-style (y = normed * (1 + w)); constant folding turns it
// into a plain weight at compile time, so rms_norm stays one pattern.
Out one_plus(const Out& weight);
// (x - mean) / sqrt(var + eps) * weight + bias over the last axis.
Out layer_norm(const Out& x, const Out& weight, const Out& bias, double eps);

// A projection stored nn.Linear style: weight [out, in], optional bias [out].
struct Linear {
    Out weight;
    std::optional<Out> bias;
};
Out linear(const Out& x, const Linear& proj);  // [..., in] -> [..., out]

Out activation(const Out& x, Activation act);
Out add(const Out& a, const Out& b);  // residual connections
// Splits the last axis into pieces of the given sizes (fused q|k|v projections).
std::vector<Out> split_last_axis(const Out& x, const std::vector<int64_t>& sizes);
// position_ids + offset [B, S] (OPT's learned positions start at row 2).
Out shifted_positions(const GraphContext& ctx, int64_t offset);

// Weight look-ups shared by the families. `prefix` names the module ("model.layers.0.mlp.up_proj").
Linear load_linear(WeightSource& weights, const std::string& prefix, int64_t out, int64_t in,
                   bool with_bias, WeightUse use = WeightUse::matmul);
Out load_vector(WeightSource& weights, const std::string& name, int64_t size);
struct LayerNormWeights {
    Out weight;
    Out bias;
};
LayerNormWeights load_layer_norm(WeightSource& weights, const std::string& prefix, int64_t size);
Out layer_norm(const Out& x, const LayerNormWeights& norm, double eps);

// One layer's attention after the q/k/v projections.
struct AttentionSpec {
    int64_t layer = 0;  // names the KV variables
    int64_t heads = 0;
    int64_t kv_heads = 0;
    int64_t head_dim = 0;
    double scale = 1.0;         // applied to q·k
    std::optional<Out> q_norm;  // RMSNorm weight [D] applied per head before RoPE
    std::optional<Out> k_norm;
    double norm_eps = 1e-6;
    const RopeTables* rope = nullptr;  // nullptr: no rotary embedding (learned positions)
    Out mask;                          // from attention_mask()
};
struct QkvProjections {
    Out q;  // [B, S, H * D]
    Out k;  // [B, S, KVH * D]
    Out v;  // [B, S, KVH * D]
};
// Splits heads, applies norms and RoPE, appends K/V to the layer's state, expands groups and
// runs SDPA. Returns [B, S, H * D], the input of the output projection.
Out attention(const QkvProjections& qkv, const AttentionSpec& spec, GraphContext& ctx);

struct GatedMlp {
    Linear gate, up, down;
};
Out gated_mlp(const Out& x, const GatedMlp& mlp, Activation act);  // down(act(gate x) * up x)
struct PlainMlp {
    Linear fc1, fc2;
};
Out plain_mlp(const Out& x, const PlainMlp& mlp, Activation act);  // fc2(act(fc1 x))

// hidden [B, S, hidden] x weight [vocab, hidden] -> logits [B, S, vocab]. The MatMul is
// named kLmHeadName so the paged conversion can insert the row selection before it.
inline constexpr const char* kLmHeadName = "lm_head";
Out lm_head(const Out& hidden, const Out& weight);

// Wraps up the stateful model: output `logits`, the four inputs, the KV sinks and variables.
std::shared_ptr<ov::Model> make_stateful_model(const Out& logits, const GraphContext& ctx,
                                               const std::string& name);

}  // namespace ovllm::model
