#include "model/safetensors_weights.hpp"

#include <openvino/op/convert.hpp>
#include <openvino/op/transpose.hpp>

#include "util/error.hpp"

namespace ovllm::model {

SafetensorsWeights::SafetensorsWeights(const std::filesystem::path& path)
    : model_(std::make_shared<const SafetensorsModel>(path)) {}

SafetensorsWeights::SafetensorsWeights(std::shared_ptr<const SafetensorsModel> model)
    : model_(std::move(model)) {}

bool SafetensorsWeights::contains(const std::string& name) const {
    return model_->contains(name);
}

std::string SafetensorsWeights::describe() const {
    return model_->describe();
}

ov::element::Type SafetensorsWeights::dtype() const {
    return model_->dominant_type();
}

std::shared_ptr<ov::op::v0::Constant> SafetensorsWeights::constant(
    const std::string& name, const ov::Shape& stored_shape) const {
    const TensorView& view = model_->tensor(name);
    if (view.shape != stored_shape) {
        throw_error("{}: tensor '{}' has shape {}, expected {}", view.file, name,
                    view.shape.to_string(), stored_shape.to_string());
    }
    // Zero-copy: the Constant points into the mapping and keeps it alive.
    auto result =
        std::make_shared<ov::op::v0::Constant>(view.type, view.shape, view.data, view.keepalive);
    result->set_friendly_name(name);
    return result;
}

ov::Output<ov::Node> SafetensorsWeights::get(const std::string& name,
                                             const ov::Shape& expected_shape, WeightUse use) {
    const bool transposed = use == WeightUse::matmul_transposed;
    if (transposed && expected_shape.size() != 2) {
        throw_error("{}: tensor '{}': a transposed matmul weight must be 2-D, asked for {}",
                    describe(), name, expected_shape.to_string());
    }
    const ov::Shape stored_shape =
        transposed ? ov::Shape{expected_shape[1], expected_shape[0]} : expected_shape;
    ov::Output<ov::Node> output = constant(name, stored_shape);
    if (transposed) {
        // Conv1D keeps [in, out]; builders always get nn.Linear's [out, in].
        const auto order = ov::op::v0::Constant::create(ov::element::i64, {2}, {1, 0});
        output = std::make_shared<ov::op::v1::Transpose>(output, order);
    }
    if (output.get_element_type() != ov::element::f32) {
        output = std::make_shared<ov::op::v0::Convert>(output, ov::element::f32);
    }
    return output;
}

}  // namespace ovllm::model
