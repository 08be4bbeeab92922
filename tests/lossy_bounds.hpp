#pragma once
// Bounds for lossy precision modes (bf16 compute, u8 KV cache, int8/int4 weights, dynamic
// activation quantization) that hold on any CPU the OpenVINO CPU plugin supports.
//
// The principle: a lossy mode is compared with how much the same model moves under a known,
// harmless perturbation of the same size, measured in the same test through the exact f32
// path (which matches transformers to 1e-5 on every CPU). bf16 keeps 8 significant bits, so the
// reference perturbation multiplies every weight by (1 + e), e uniform in [-2^-8, 2^-8]: one
// bf16 rounding error per weight. How far that moves the logits depends on the model (depth,
// weight scales, logit range), not on the CPU; the lossy mode's bound is a fixed multiple of
// it, argued where it is used. A wrong weight, a swapped layer or a broken cache layout moves
// the logits by 0.5 or more (golden README), far past any of these bounds.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <openvino/core/graph_util.hpp>
#include <openvino/core/model.hpp>
#include <openvino/op/constant.hpp>

namespace ovllm::test {

// bf16's unit roundoff: 8 significant bits.
inline constexpr double kBf16UnitRoundoff = 1.0 / 256.0;

// Max and root-mean-square of (ours - reference) over every logit compared.
struct LogitError {
    double max_abs = 0.0;
    double sum_squares = 0.0;
    size_t count = 0;

    void add(const float* ours, const float* reference, size_t n) {
        for (size_t i = 0; i < n; ++i) {
            const double d = double(ours[i]) - double(reference[i]);
            max_abs = std::max(max_abs, std::abs(d));
            sum_squares += d * d;
        }
        count += n;
    }
    double rms() const { return count ? std::sqrt(sum_squares / double(count)) : 0.0; }
};

// A copy of `model` whose floating-point weight Constants (every f32/f16/bf16 Constant of 16
// or more elements: matrices, embeddings, norm weights, biases) are multiplied elementwise by
// (1 + e), e uniform in [-relative, relative], from a fixed seed. Replaced Constants become
// f32; the Convert that follows a bf16/f16 weight accepts f32 as well.
inline std::shared_ptr<ov::Model> perturb_weights(const std::shared_ptr<ov::Model>& model,
                                                  double relative, uint32_t seed = 1234) {
    std::shared_ptr<ov::Model> copy = model->clone();
    std::mt19937 rng(seed);
    // Uniform in [-1, 1) from 24 random bits (std::uniform_real_distribution's output is
    // implementation-defined; this is not).
    const auto uniform = [&rng] { return double(rng() >> 8) / double(1 << 23) - 1.0; };
    for (const std::shared_ptr<ov::Node>& node : copy->get_ordered_ops()) {
        const auto constant = ov::as_type_ptr<ov::op::v0::Constant>(node);
        if (!constant || !constant->get_element_type().is_real() ||
            ov::shape_size(constant->get_shape()) < 16)
            continue;
        std::vector<float> values = constant->cast_vector<float>();
        for (float& v : values) v = static_cast<float>(double(v) * (1.0 + relative * uniform()));
        auto replacement =
            std::make_shared<ov::op::v0::Constant>(ov::element::f32, constant->get_shape(), values);
        replacement->set_friendly_name(constant->get_friendly_name());
        ov::replace_node(constant, replacement);
    }
    copy->validate_nodes_and_infer_types();
    return copy;
}

}  // namespace ovllm::test
