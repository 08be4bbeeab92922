#include "model/ir_folder.hpp"

#include <openvino/core/graph_util.hpp>
#include <openvino/op/assign.hpp>
#include <openvino/op/read_value.hpp>
#include <openvino/runtime/core.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "ovllm/version.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::model {
namespace fs = std::filesystem;

bool is_stateful_model(const ov::Model& model) {
    if (model.get_variables().empty() || model.get_sinks().empty()) return false;
    for (const auto& input : model.inputs()) {
        if (input.get_names().count("beam_idx")) return true;
    }
    return false;
}

ov::AnyMap read_runtime_options(const ov::Model& model) {
    ov::AnyMap options;
    if (!model.has_rt_info("runtime_options")) return options;
    // Values may come back as strings or as a nested map depending on how the IR was read.
    const ov::AnyMap stored = model.get_rt_info<ov::AnyMap>("runtime_options");
    for (const auto& [name, value] : stored) options[name] = value.as<std::string>();
    return options;
}

IrFolderModel load_ir_folder(const fs::path& folder, WeightFormat requested) {
    IrFolderModel result;
    result.xml = folder / "openvino_model.xml";
    if (!fs::is_regular_file(result.xml)) {
        throw_error("{}: no openvino_model.xml in this OpenVINO IR folder", folder.string());
    }
    if (!fs::is_regular_file(folder / "openvino_model.bin")) {
        throw_error("{}: openvino_model.bin is missing beside openvino_model.xml", folder.string());
    }
    result.config = load_model_config(folder);
    try {
        result.model = ov::Core().read_model(result.xml);
    } catch (const ov::Exception& e) {
        throw_error("{}: OpenVINO cannot read this IR: {}", result.xml.string(), e.what());
    }
    if (!is_stateful_model(*result.model)) {
        throw_error(
            "{}: a stateless IR (no KV-cache state / beam_idx input) cannot run paged; export a "
            "stateful one with `optimum-cli export openvino --model <hf model> --task "
            "text-generation-with-past <folder>` or `ovllm convert <hf model> --output <folder>`",
            result.xml.string());
    }
    result.runtime_options = read_runtime_options(*result.model);
    if (requested != WeightFormat::none) {
        OVLLM_INFO(
            "{} is an OpenVINO IR folder: its weights are used as exported, so --weight-format {} "
            "(and other conversion options) are ignored",
            folder.string(), weight_format_name(requested));
    }
    return result;
}

void write_ir_folder(const fs::path& output, const std::shared_ptr<ov::Model>& model,
                     const fs::path& source_folder, WeightFormat format,
                     const std::string& bitwidth_table) {
    if (fs::exists(output / "openvino_model.xml")) {
        throw_error("{}: already holds openvino_model.xml; choose an empty folder",
                    output.string());
    }
    std::error_code ec;
    fs::create_directories(output, ec);
    if (ec) throw_error("{}: cannot create the folder: {}", output.string(), ec.message());
    try {
        ov::save_model(model, output / "openvino_model.xml", /*compress_to_fp16=*/false);
    } catch (const ov::Exception& e) {
        throw_error("{}: cannot save the IR: {}", output.string(), e.what());
    }
    for (const char* name :
         {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
          "special_tokens_map.json", "chat_template.jinja"}) {
        if (!fs::is_regular_file(source_folder / name)) continue;
        fs::copy_file(source_folder / name, output / name, fs::copy_options::overwrite_existing,
                      ec);
        if (ec) throw_error("{}: cannot copy {}: {}", output.string(), name, ec.message());
    }
    // Mirrors the fields optimum writes, plus how ovllm compressed the weights.
    nlohmann::json quantization = nullptr;
    if (format != WeightFormat::none) {
        const bool int4 = format == WeightFormat::int4;
        quantization = {{"bits", int4 ? 4 : 8},
                        {"sym", false},
                        {"group_size", int4 ? static_cast<int>(kInt4GroupSize) : -1},
                        {"ratio", 1.0},
                        {"backup_precision", "int8_asym"},
                        {"quant_method", "default"}};
    }
    const nlohmann::json record = {{"weight_format", weight_format_name(format)},
                                   {"quantization_config", quantization},
                                   {"bitwidth_distribution", bitwidth_table},
                                   {"stateful", true},
                                   {"converted_by", std::string("ovllm ") + kVersion}};
    std::ofstream out(output / "openvino_config.json");
    out << record.dump(2) << "\n";
    if (!out) throw_error("{}: cannot write openvino_config.json", output.string());
}

}  // namespace ovllm::model
