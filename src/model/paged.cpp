#include "model/paged.hpp"

#include <string>

#include <openvino/op/constant.hpp>
#include <openvino/op/gather.hpp>
#include <openvino/op/matmul.hpp>
#include <openvino/op/parameter.hpp>
#include <openvino/op/result.hpp>
#include <openvino/op/scaled_dot_product_attention.hpp>
#include <openvino/op/util/read_value_base.hpp>
#include <openvino/pass/sdpa_to_paged_attention.hpp>

#include "model/blocks.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

size_t count_paged_attention(const ov::Model& model) {
    size_t count = 0;
    for (const auto& node : model.get_ordered_ops()) {
        if (std::string(node->get_type_name()) == "PagedAttentionExtension") ++count;
    }
    return count;
}

// The lm_head MatMul: the node the builders named, or for foreign graphs the nearest MatMul
// above the `logits` result.
std::shared_ptr<ov::Node> find_lm_head(ov::Model& model) {
    for (const auto& node : model.get_ordered_ops()) {
        if (node->get_friendly_name() == kLmHeadName && ov::is_type<ov::op::v0::MatMul>(node)) {
            return node;
        }
    }
    std::shared_ptr<ov::Node> node = model.output("logits").get_node_shared_ptr();
    while (node && node->get_input_size() > 0) {
        node = node->get_input_node_shared_ptr(0);
        if (ov::is_type<ov::op::v0::MatMul>(node)) return node;
    }
    throw_error("model '{}': no lm_head MatMul found above the logits output",
                model.get_friendly_name());
}

}  // namespace

bool is_paged_model(const ov::Model& model) {
    return count_paged_attention(model) > 0;
}

std::shared_ptr<ov::Model> make_paged_model(const std::shared_ptr<const ov::Model>& stateful) {
    std::shared_ptr<ov::Model> model = stateful->clone();
    if (model->get_variables().empty()) {
        throw_error("model '{}' has no KV-cache state; a stateless model cannot be made paged",
                    model->get_friendly_name());
    }
    ov::pass::SDPAToPagedAttention().run_on_model(model);
    for (const auto& node : model->get_ordered_ops()) {
        if (ov::is_type<ov::op::v13::ScaledDotProductAttention>(node) ||
            ov::is_type<ov::op::util::ReadValueBase>(node)) {
            throw_error("model '{}': paged conversion left {} '{}' behind (graph not matched)",
                        model->get_friendly_name(), node->get_type_name(),
                        node->get_friendly_name());
        }
    }

    // Project only the rows that are sampled: hidden [T, 1, hidden] -> [S, 1, hidden].
    const auto head = find_lm_head(*model);
    auto indices = std::make_shared<ov::op::v0::Parameter>(ov::element::i64, ov::PartialShape{-1});
    indices->set_friendly_name(kSampledTokensIndices);
    indices->output(0).set_names({kSampledTokensIndices});
    const auto axis = ov::op::v0::Constant::create(ov::element::i64, ov::Shape{}, {0});
    const auto rows = std::make_shared<ov::op::v8::Gather>(head->input_value(0), indices, axis);
    head->input(0).replace_source_output(rows);
    model->add_parameters({indices});
    model->validate_nodes_and_infer_types();
    return model;
}

}  // namespace ovllm::model
