// `ovllm info MODEL`: what the model is and how its KV cache is laid out once compiled.
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "hub_models.hpp"
#include "model/loader.hpp"
#include "model_argument.hpp"
#include "runner/model_runner.hpp"
#include "runner/precision.hpp"
#include "util/cli_flags.hpp"

namespace ovllm::cli {
namespace {

struct InfoOptions {
    ModelArgument model_argument;
    std::string model;
    std::string load_format = "auto";
    std::string dtype = "auto";
    std::string kv_cache_dtype = "auto";
    std::string revision;   // a hub name's branch, tag or commit
    std::string gguf_file;  // the .gguf of a GGUF hub repo
};

std::string shape_text(const ov::Shape& shape) {
    return fmt::format("[{}]", fmt::join(shape, ", "));
}

void print_kv_layout(const runner::KvCacheLayout& layout) {
    std::printf("kv cache: block_size %d tokens, %zu bytes per block (all layers)\n",
                layout.block_size, layout.bytes_per_block);
    // Consecutive layers with the same layout share one line.
    size_t first = 0;
    for (size_t i = 1; i <= layout.layers.size(); ++i) {
        const auto& a = layout.layers[first];
        const bool same =
            i < layout.layers.size() && layout.layers[i].key_block_shape == a.key_block_shape &&
            layout.layers[i].value_block_shape == a.value_block_shape &&
            layout.layers[i].key_type == a.key_type && layout.layers[i].value_type == a.value_type;
        if (same) continue;
        std::printf("  layers %zu-%zu: key %s %s, value %s %s per block\n", first, i - 1,
                    a.key_type.get_type_name().c_str(), shape_text(a.key_block_shape).c_str(),
                    a.value_type.get_type_name().c_str(), shape_text(a.value_block_shape).c_str());
        first = i;
    }
}

int run_info(const InfoOptions& o) {
    const bool dummy = model::parse_load_format(o.load_format) == model::LoadFormat::dummy;
    const std::string path =
        resolve_hub_model(o.model, o.revision, o.gguf_file, hub::FileSet::model, dummy);
    const model::LoadedModel loaded =
        model::load_model(path, model::parse_load_format(o.load_format));
    const model::ModelConfig& c = loaded.config;
    std::printf("model: %s\n", o.model.c_str());
    std::printf("source: %s\n", loaded.source.c_str());
    std::printf("architecture: %s (model_type %s)\n", c.architecture.c_str(), c.model_type.c_str());
    std::printf("parameters: %lld (%.1fM)\n", static_cast<long long>(c.parameter_count()),
                static_cast<double>(c.parameter_count()) / 1e6);
    std::printf(
        "layers: %lld, heads: %lld, kv_heads: %lld, head_dim: %lld, hidden: %lld, "
        "vocab: %lld\n",
        static_cast<long long>(c.num_hidden_layers), static_cast<long long>(c.num_attention_heads),
        static_cast<long long>(c.num_key_value_heads), static_cast<long long>(c.head_dim),
        static_cast<long long>(c.hidden_size), static_cast<long long>(c.vocab_size));
    std::printf("weight dtype: %s\n", loaded.weight_dtype == ov::element::dynamic
                                          ? "from IR"
                                          : loaded.weight_dtype.get_type_name().c_str());
    runner::RunnerOptions options;
    const runner::Precisions precisions = runner::resolve_precisions(o.dtype, o.kv_cache_dtype);
    options.inference_precision = precisions.inference;
    options.kv_cache_precision = precisions.kv_cache;
    options.num_kv_blocks = 1;  // only the layout is wanted
    const runner::ModelRunner runner(loaded.model, options);
    std::printf("inference precision: %s\n", runner::compile_properties(options)
                                                 .at(ov::hint::inference_precision.name())
                                                 .as<ov::element::Type>()
                                                 .get_type_name()
                                                 .c_str());
    print_kv_layout(runner.kv_layout());
    return 0;
}

}  // namespace

Command add_info_command(CLI::App& app) {
    auto options = std::make_shared<InfoOptions>();
    CLI::App* cmd =
        app.add_subcommand("info", "Show a model's shape and its compiled KV-cache layout");
    options->model_argument.add_both(*cmd, "Model folder, hub name or built-in name");
    config::add_hub_flags(*cmd, options->revision, options->gguf_file);
    cmd->add_option("--load-format", options->load_format, "auto | dummy");
    cmd->add_option("--dtype", options->dtype, "Inference precision: auto | bf16 | f16 | f32");
    cmd->add_option("--kv-cache-dtype", options->kv_cache_dtype,
                    "KV-cache precision: auto | u8 | i8 | f16 | bf16 | f32");
    return [options] {
        options->model = options->model_argument.resolve("info");
        return run_info(*options);
    };
}

}  // namespace ovllm::cli
