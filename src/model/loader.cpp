#include "model/loader.hpp"

#include <openvino/runtime/core.hpp>

#include "model/dummy_weights.hpp"
#include "model/gguf_weights.hpp"
#include "model/model_folder.hpp"
#include "model/registry.hpp"
#include "model/safetensors_weights.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

LoadedModel load_dummy(const ModelLocation& location) {
    LoadedModel loaded;
    if (location.format == ModelFormat::builtin_dummy) {
        loaded.config = *builtin_model_config(location.name);
    } else {
        loaded.config = load_model_config(location.path);
    }
    DummyWeights weights;
    loaded.model = build_stateful_model(loaded.config, weights);
    loaded.source = "dummy weights for " + location.name;
    loaded.weight_dtype = ov::element::bf16;
    return loaded;
}

LoadedModel load_safetensors(const ModelLocation& location) {
    LoadedModel loaded;
    loaded.config = load_model_config(location.path);
    SafetensorsWeights weights(location.path);
    loaded.model = build_stateful_model(loaded.config, weights);
    loaded.weight_dtype = weights.dtype();
    loaded.source = "safetensors: " + weights.describe();
    return loaded;
}

LoadedModel load_ir(const ModelLocation& location) {
    LoadedModel loaded;
    loaded.config = load_model_config(location.path);
    const auto xml = location.path / "openvino_model.xml";
    loaded.model = ov::Core().read_model(xml);
    if (loaded.model->get_variables().empty()) {
        throw_error(
            "{}: stateless OpenVINO IR cannot be made paged; export it with "
            "--task text-generation-with-past",
            xml.string());
    }
    loaded.weight_dtype = ov::element::dynamic;
    loaded.source = "OpenVINO IR: " + xml.string();
    return loaded;
}

}  // namespace

LoadFormat parse_load_format(const std::string& name) {
    if (name == "auto" || name == "safetensors") return LoadFormat::auto_detect;
    if (name == "dummy") return LoadFormat::dummy;
    throw_error("--load-format '{}' is not supported (auto, safetensors, dummy)", name);
}

LoadedModel load_model(const std::string& model, LoadFormat format) {
    const ModelLocation location = locate_model(model);
    if (format == LoadFormat::dummy) return load_dummy(location);
    switch (location.format) {
        case ModelFormat::hf_safetensors:
            return load_safetensors(location);
        case ModelFormat::openvino_ir:
            return load_ir(location);
        case ModelFormat::builtin_dummy:
            throw_error("{}: no such model folder (a built-in config; use --load-format dummy)",
                        model);
        case ModelFormat::gguf:
            return load_gguf(location.path);
    }
    throw_error("{}: unknown model format", model);
}

}  // namespace ovllm::model
