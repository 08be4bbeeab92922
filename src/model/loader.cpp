#include "model/loader.hpp"

#include <memory>

#include <openvino/runtime/core.hpp>

#include "model/dummy_weights.hpp"
#include "model/gguf_weights.hpp"
#include "model/ir_cache.hpp"
#include "model/ir_folder.hpp"
#include "model/model_folder.hpp"
#include "model/packed_int4.hpp"
#include "model/registry.hpp"
#include "model/safetensors_weights.hpp"
#include "util/env_config.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::model {
namespace {

LoadedModel load_dummy(const ModelLocation& location, WeightFormat weight_format) {
    LoadedModel loaded;
    if (location.format == ModelFormat::builtin_dummy) {
        loaded.config = *builtin_model_config(location.name);
    } else {
        loaded.config = load_model_config(location.path);
    }
    CompressedWeights weights(std::make_shared<DummyWeights>(), weight_format);
    loaded.model = build_stateful_model(loaded.config, weights);
    if (weight_format != WeightFormat::none) OVLLM_INFO("{}", weights.statistics().table());
    loaded.source = "dummy weights for " + location.name;
    loaded.compression = weight_format;
    loaded.weight_dtype = ov::element::bf16;
    return loaded;
}

// AWQ / GPTQ checkpoints: their int4 weights become u4 compressed weights as they are.
LoadedModel load_packed_int4(LoadedModel loaded, std::shared_ptr<SafetensorsWeights> weights,
                             WeightFormat weight_format) {
    const PackedQuantization& quantization = *loaded.config.quantization;
    if (weight_format != WeightFormat::none) {
        OVLLM_INFO("The checkpoint is quantized already ({}); --weight-format {} does not apply",
                   describe_quantization(quantization), weight_format_name(weight_format));
    }
    PackedInt4Weights packed(std::move(weights), quantization);
    loaded.model = build_stateful_model(loaded.config, packed);
    loaded.source += ", " + describe_quantization(quantization) + " (" +
                     std::to_string(packed.packed_matrices()) + " packed matrices)";
    loaded.weight_dtype = ov::element::u4;
    return loaded;
}

LoadedModel load_safetensors(const ModelLocation& location, WeightFormat weight_format) {
    LoadedModel loaded;
    loaded.config = load_model_config(location.path);
    auto weights = std::make_shared<SafetensorsWeights>(location.path);
    loaded.weight_dtype = weights->dtype();
    loaded.source = "safetensors: " + weights->describe();
    if (loaded.config.quantization) {
        return load_packed_int4(std::move(loaded), std::move(weights), weight_format);
    }
    if (weight_format == WeightFormat::none) {
        loaded.model = build_stateful_model(loaded.config, *weights);
        return loaded;
    }
    const auto convert = [&] {
        CompressedWeights compressed(weights, weight_format);
        Conversion conversion{build_stateful_model(loaded.config, compressed),
                              compressed.statistics().table()};
        return conversion;
    };
    ConvertedModel converted;
    if (config::ir_cache_disabled()) {
        Conversion conversion = convert();
        converted = {conversion.model, false, conversion.note};
    } else {
        converted = load_or_convert(IrCache(), location.path, weight_format, convert);
    }
    OVLLM_INFO("{}", converted.note);
    loaded.model = converted.model;
    loaded.from_ir_cache = converted.from_cache;
    loaded.compression = weight_format;
    loaded.source += std::string(", ") + weight_format_name(weight_format) + " weights";
    return loaded;
}

LoadedModel load_ir(const ModelLocation& location, WeightFormat weight_format) {
    IrFolderModel ir = load_ir_folder(location.path, weight_format);
    LoadedModel loaded;
    loaded.config = std::move(ir.config);
    loaded.model = std::move(ir.model);
    loaded.runtime_options = std::move(ir.runtime_options);
    loaded.weight_dtype = ov::element::dynamic;
    loaded.source = "OpenVINO IR: " + ir.xml.string();
    return loaded;
}

}  // namespace

LoadFormat parse_load_format(const std::string& name) {
    if (name == "auto" || name == "safetensors") return LoadFormat::auto_detect;
    if (name == "dummy") return LoadFormat::dummy;
    throw_error("--load-format '{}' is not supported (auto, safetensors, dummy)", name);
}

LoadedModel load_model(const std::string& model, LoadFormat format, WeightFormat weight_format) {
    const ModelLocation location = locate_model(model);
    if (format == LoadFormat::dummy) return load_dummy(location, weight_format);
    switch (location.format) {
        case ModelFormat::hf_safetensors:
            return load_safetensors(location, weight_format);
        case ModelFormat::openvino_ir:
            return load_ir(location, weight_format);
        case ModelFormat::builtin_dummy:
            throw_error("{}: no such model folder (a built-in config; use --load-format dummy)",
                        model);
        case ModelFormat::gguf:
            return load_gguf(location.path);
    }
    throw_error("{}: unknown model format", model);
}

}  // namespace ovllm::model
