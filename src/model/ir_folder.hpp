#pragma once
// An OpenVINO IR folder used as it is (optimum-cli export, or `ovllm convert`):
// openvino_model.xml/.bin and config.json. The model must be stateful (exported with
// --task text-generation-with-past); its rt_info `runtime_options` (e.g.
// KV_CACHE_PRECISION) are handed to the runner, which applies them unless a flag overrides.
#include <filesystem>
#include <memory>

#include <openvino/core/any.hpp>
#include <openvino/core/model.hpp>

#include "model/model_config.hpp"
#include "model/quantize.hpp"

namespace ovllm::model {

struct IrFolderModel {
    ModelConfig config;
    std::shared_ptr<ov::Model> model;  // stateful, as read
    ov::AnyMap runtime_options;        // from rt_info/runtime_options; values as strings
    std::filesystem::path xml;
};

// True when the model keeps its KV cache in ReadValue/Assign state and takes beam_idx.
bool is_stateful_model(const ov::Model& model);

// rt_info "runtime_options" as property name -> string value; empty when absent.
ov::AnyMap read_runtime_options(const ov::Model& model);

// Reads <folder>/openvino_model.xml and <folder>/config.json. `requested` is the weight
// format the user asked for: anything but none is logged as ignored (the IR's weights are
// used as exported). Throws ovllm::Error naming the file for a missing file or a stateless
// model (the message gives the optimum-cli command for a stateful export).
IrFolderModel load_ir_folder(const std::filesystem::path& folder,
                             WeightFormat requested = WeightFormat::none);

// Writes a stateful IR folder that load_ir_folder() (and optimum's loaders) read back:
// openvino_model.xml/.bin (weights kept as they are in `model`, f32 not halved),
// config.json, generation_config.json and the tokenizer files found in `source_folder`
// (tokenizer.json, tokenizer_config.json, special_tokens_map.json, chat_template.jinja), and
// openvino_config.json recording the weight compression. Creates `output`; throws
// ovllm::Error when it cannot be written or already holds an openvino_model.xml.
void write_ir_folder(const std::filesystem::path& output, const std::shared_ptr<ov::Model>& model,
                     const std::filesystem::path& source_folder, WeightFormat format,
                     const std::string& bitwidth_table);

}  // namespace ovllm::model
