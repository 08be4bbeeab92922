// `ovllm convert MODEL --output DIR [--weight-format int8|int4|none]`: builds the stateful
// graph of a Hugging Face safetensors folder, compresses its weights, and writes an OpenVINO
// IR folder that `ovllm` (and optimum's loaders) use as is on the next start.
#include <chrono>
#include <filesystem>
#include <string>

#include "commands.hpp"
#include "model/ir_folder.hpp"
#include "model/model_config.hpp"
#include "model/model_folder.hpp"
#include "model/quantize.hpp"
#include "model/registry.hpp"
#include "model/safetensors_weights.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::cli {
namespace {

struct ConvertOptions {
    std::string model;
    std::string output;
    std::string weight_format = "int8";
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run_convert(const ConvertOptions& o) {
    const model::ModelLocation location = model::locate_model(o.model);
    if (location.format == model::ModelFormat::openvino_ir) {
        throw_error("{}: already an OpenVINO IR folder; use it directly", location.path.string());
    }
    if (location.format != model::ModelFormat::hf_safetensors) {
        throw_error(
            "{}: convert needs a Hugging Face folder with config.json and *.safetensors "
            "(got {})",
            o.model, model::model_format_name(location.format));
    }
    const model::WeightFormat format = model::parse_weight_format(o.weight_format);
    const model::ModelConfig config = model::load_model_config(location.path);

    const auto started = std::chrono::steady_clock::now();
    model::CompressedWeights weights(std::make_shared<model::SafetensorsWeights>(location.path),
                                     format);
    const auto graph = model::build_stateful_model(config, weights);
    const std::string table =
        format == model::WeightFormat::none ? "" : weights.statistics().table();
    OVLLM_INFO("Built {} ({} weights) in {:.1f} s", config.architecture,
               model::weight_format_name(format), seconds_since(started));
    if (!table.empty()) OVLLM_INFO("{}", table);

    const std::filesystem::path output(o.output);
    const auto saving = std::chrono::steady_clock::now();
    model::write_ir_folder(output, graph, location.path, format, table);
    // Read it back the way serving will, so a broken folder fails here and not later.
    model::load_ir_folder(output);
    OVLLM_INFO("Wrote the stateful OpenVINO IR folder {} in {:.1f} s", output.string(),
               seconds_since(saving));
    return 0;
}

}  // namespace

Command add_convert_command(CLI::App& app) {
    auto options = std::make_shared<ConvertOptions>();
    CLI::App* cmd = app.add_subcommand(
        "convert", "Convert a Hugging Face model folder into a stateful OpenVINO IR folder");
    cmd->add_option("model", options->model, "Model folder (config.json + *.safetensors)")
        ->required();
    cmd->add_option("--output,-o", options->output, "Folder to write the IR into")->required();
    cmd->add_option("--weight-format", options->weight_format,
                    "Weight compression: int8 (per-channel), int4 (group 128; embeddings and "
                    "lm_head int8) or none")
        ->check(CLI::IsMember({"int8", "int4", "none", "fp32"}));
    return [options] { return run_convert(*options); };
}

}  // namespace ovllm::cli
