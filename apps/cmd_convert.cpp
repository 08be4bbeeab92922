// `ovllm convert MODEL --output DIR [--weight-format int8|int4|none] [--load-format dummy]`:
// builds the stateful graph of a Hugging Face safetensors folder (or of a built-in config
// with random weights), compresses its weights, and writes an OpenVINO IR folder that
// `ovllm`, OpenVINO GenAI and optimum's loaders use as is.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "hub_models.hpp"
#include "model/dummy_weights.hpp"
#include "model/ir_folder.hpp"
#include "model/loader.hpp"
#include "model/model_config.hpp"
#include "model/model_folder.hpp"
#include "model/quantize.hpp"
#include "model/registry.hpp"
#include "model/safetensors_weights.hpp"
#include "model_argument.hpp"
#include "util/cli_flags.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::cli {
namespace {

struct ConvertOptions {
    ModelArgument model_argument;
    std::string model;
    std::string output;
    std::string weight_format = "int8";
    std::string load_format = "auto";  // dummy: random weights (a built-in name or a folder)
    std::string revision;              // a hub name's branch, tag or commit
    std::string gguf_file;             // the .gguf of a GGUF hub repo
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Where the graph's weights and config come from.
struct ConvertSource {
    model::ModelConfig config;
    std::shared_ptr<model::WeightSource> weights;
    std::filesystem::path folder;  // files copied next to the IR; empty for a built-in config
    std::string builtin_name;      // a built-in config: its config.json is written instead
};

ConvertSource convert_source(const ConvertOptions& o) {
    const model::ModelLocation location = model::locate_model(o.model);
    const bool dummy = model::parse_load_format(o.load_format) == model::LoadFormat::dummy;
    if (location.format == model::ModelFormat::openvino_ir) {
        throw_error("{}: already an OpenVINO IR folder; use it directly", location.path.string());
    }
    if (dummy && location.format == model::ModelFormat::builtin_dummy) {
        return {*model::builtin_model_config(location.name),
                std::make_shared<model::DummyWeights>(),
                {},
                location.name};
    }
    if (location.format != model::ModelFormat::hf_safetensors) {
        throw_error(
            "{}: convert needs a Hugging Face folder with config.json and *.safetensors, or a "
            "built-in name with --load-format dummy (got {})",
            o.model, model::model_format_name(location.format));
    }
    std::shared_ptr<model::WeightSource> weights;
    if (dummy) {
        weights = std::make_shared<model::DummyWeights>();
    } else {
        weights = std::make_shared<model::SafetensorsWeights>(location.path);
    }
    return {model::load_model_config(location.path), std::move(weights), location.path, {}};
}

void write_builtin_config(const std::filesystem::path& output, const std::string& name) {
    std::ofstream out(output / "config.json");
    out << *model::builtin_config_json(name) << "\n";
    if (!out) throw_error("{}: cannot write config.json", output.string());
}

int run_convert(const ConvertOptions& o) {
    const model::WeightFormat format = model::parse_weight_format(o.weight_format);
    const ConvertSource source = convert_source(o);
    const model::ModelConfig& config = source.config;

    const auto started = std::chrono::steady_clock::now();
    model::CompressedWeights weights(source.weights, format);
    const auto graph = model::build_stateful_model(config, weights);
    const std::string table =
        format == model::WeightFormat::none ? "" : weights.statistics().table();
    OVLLM_INFO("Built {} ({} weights) in {:.1f} s", config.architecture,
               model::weight_format_name(format), seconds_since(started));
    if (!table.empty()) OVLLM_INFO("{}", table);

    const std::filesystem::path output(o.output);
    const auto saving = std::chrono::steady_clock::now();
    model::write_ir_folder(output, graph, source.folder, format, table);
    if (!source.builtin_name.empty()) write_builtin_config(output, source.builtin_name);
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
    options->model_argument.add_both(
        *cmd, "Model folder (config.json + *.safetensors) or hub name ORG/NAME");
    cmd->add_option("--output,-o", options->output, "Folder to write the IR into")->required();
    cmd->add_option("--weight-format", options->weight_format,
                    "Weight compression: int8 (per-channel), int4 (group 128; embeddings and "
                    "lm_head int8) or none")
        ->check(CLI::IsMember({"int8", "int4", "none", "fp32"}));
    cmd->add_option("--load-format", options->load_format,
                    "auto (the folder's safetensors) or dummy (random weights, for a built-in "
                    "name such as facebook/opt-125m or a folder's config.json)")
        ->check(CLI::IsMember({"auto", "safetensors", "dummy"}));
    config::add_hub_flags(*cmd, options->revision, options->gguf_file);
    return [options] {
        options->model = options->model_argument.resolve("convert");
        const bool dummy = options->load_format == "dummy";
        options->model =
            resolve_hub_model(options->model, options->revision, options->gguf_file,
                              dummy ? hub::FileSet::tokenizer : hub::FileSet::model, dummy);
        return run_convert(*options);
    };
}

}  // namespace ovllm::cli
