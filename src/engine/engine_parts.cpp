#include "engine/engine_parts.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>

#include <openvino/runtime/properties.hpp>

#include "engine/model_files.hpp"
#include "model/loader.hpp"
#include "model/quantize.hpp"
#include "ovllm/version.hpp"
#include "runner/precision.hpp"
#include "tokenizer/generation_config.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/vllm_log.hpp"

namespace ovllm::engine {
namespace {

// The OpenVINO model runner behind the engine's StepRunner.
class OpenVinoStepRunner final : public StepRunner {
  public:
    OpenVinoStepRunner(std::shared_ptr<ov::Model> model, runner::RunnerOptions options)
        : runner_(std::move(model), std::move(options)) {}
    runner::LogitsView run(const runner::ModelInput& input) override { return runner_.run(input); }
    int block_size() const override { return runner_.block_size(); }
    size_t num_blocks() const override { return runner_.num_blocks(); }
    std::vector<runner::OpTime> op_times() const override { return runner_.op_times(); }

  private:
    runner::ModelRunner runner_;
};

// --weight-format auto: int8 (vLLM-OpenVINO's quantized weights), except with --dtype f32,
// the exact mode, where weights stay as stored.
model::WeightFormat weight_format(const EngineConfig& config) {
    if (config.weight_format == "auto")
        return runner::is_f32_name(config.dtype) ? model::WeightFormat::none
                                                 : model::WeightFormat::int8;
    return model::parse_weight_format(config.weight_format);
}

// An IR folder's runtime_options that concern precision apply, except those the user chose
// by flag. OpenVINO reads the others from the model's rt_info itself (and some, such as
// ACTIVATIONS_SCALE_FACTOR, are not CPU compile properties).
ov::AnyMap ir_runtime_options(const EngineConfig& config, const ov::AnyMap& runtime_options) {
    ov::AnyMap options;
    const auto take = [&](const std::string& name, bool user_chose) {
        const auto it = runtime_options.find(name);
        if (it != runtime_options.end() && !user_chose) options.insert(*it);
    };
    // --dtype f32 chooses the KV precision too (f32, see runner::resolve_precisions).
    take(ov::hint::kv_cache_precision.name(),
         config.kv_cache_dtype != "auto" || runner::is_f32_name(config.dtype));
    take(ov::hint::inference_precision.name(), config.dtype != "auto");
    if (!options.empty()) OVLLM_INFO("Applying the IR's runtime options: {}", options.size());
    return options;
}

// Every id that ends generation: generation_config.json, config.json and the tokenizer's
// EOS (see tokenizer/generation_config.hpp for the order). A built-in dummy model has only
// its config's ids.
std::vector<int64_t> stop_ids(const std::string& model_path, const model::ModelConfig& config,
                              const tokenizer::Tokenizer* tok) {
    std::error_code ec;
    if (!std::filesystem::is_directory(model_path, ec)) return config.eos_token_ids;
    const tokenizer::GenerationDefaults defaults =
        tokenizer::load_generation_defaults(model_path, tok);
    return {defaults.eos_token_ids.begin(), defaults.eos_token_ids.end()};
}

int resolve_max_model_len(const EngineConfig& config, const model::ModelConfig& model_config) {
    const int derived = static_cast<int>(model_config.max_position_embeddings);
    if (config.max_model_len > derived && derived > 0) {
        throw_error("--max-model-len {} is greater than the model's max_position_embeddings {}",
                    config.max_model_len, derived);
    }
    return config.max_model_len > 0 ? config.max_model_len : derived;
}

std::unique_ptr<StepRunner> make_runner(const EngineConfig& config,
                                        const model::LoadedModel& loaded) {
    runner::RunnerOptions options;
    const runner::Precisions precisions =
        runner::resolve_precisions(config.dtype, config.kv_cache_dtype);
    options.inference_precision = precisions.inference;
    options.kv_cache_precision = precisions.kv_cache;
    OVLLM_INFO("KV cache precision {} ({})", precisions.kv_cache.get_type_name(),
               precisions.kv_cache_reason);
    options.properties = ir_runtime_options(config, loaded.runtime_options);
    if (config.dtype == "auto" &&
        !options.properties.contains(ov::hint::inference_precision.name())) {
        const ov::element::Type weights = runner::main_weight_type(*loaded.model);
        options.inference_precision =
            runner::auto_inference_precision({config.max_num_seqs, weights, runner::cpu_has_amx()});
        if (options.inference_precision == ov::element::f32) {
            OVLLM_INFO(
                "Inference precision f32 with dynamic quantization (--dtype auto, "
                "--max-num-seqs {} <= {}, {} weights, AMX: faster small-batch decode); "
                "--dtype bf16 keeps bf16",
                config.max_num_seqs, runner::kDynamicQuantizationMaxSeqs, weights.get_type_name());
        }
    }
    const double space_gb = config.kv_cache_space_gb > 0 ? config.kv_cache_space_gb : 4.0;
    options.kv_cache_bytes = static_cast<size_t>(space_gb * double(size_t{1} << 30));
    options.num_threads = config.num_threads;
    options.profile_ops = config.profile_ops;
    auto runner = std::make_unique<OpenVinoStepRunner>(loaded.model, std::move(options));
    // The CPU plugin picks the block size; the CLI already forces config.block_size to it
    // with vLLM's warning, so a difference here comes from an API caller.
    if (config.block_size != runner->block_size()) {
        throw_error("block_size {}: the OpenVINO CPU plugin's KV cache uses blocks of {} tokens",
                    config.block_size, runner->block_size());
    }
    OVLLM_INFO("{}", vllm_log::cpu_blocks_line(static_cast<int64_t>(runner->num_blocks())));
    return runner;
}

sched::SchedulerConfig scheduler_config(const EngineConfig& config, int max_model_len,
                                        const StepRunner& runner) {
    sched::SchedulerConfig s;
    s.block_size = runner.block_size();
    s.num_blocks = static_cast<int>(runner.num_blocks());
    s.max_num_seqs = config.max_num_seqs;
    s.max_num_batched_tokens =
        config.max_num_batched_tokens > 0
            ? config.max_num_batched_tokens
            : std::max(8192, config.enable_chunked_prefill ? 0 : max_model_len);
    s.max_model_len = max_model_len;
    s.enable_prefix_caching = config.enable_prefix_caching;
    s.enable_chunked_prefill = config.enable_chunked_prefill;
    return s;
}

}  // namespace

EngineParts load_engine_parts(const EngineConfig& config) {
    const model::LoadedModel loaded = model::load_model(
        config.model, model::parse_load_format(config.load_format), weight_format(config));
    EngineParts parts;
    parts.model_config = loaded.config;
    const int max_model_len = resolve_max_model_len(config, parts.model_config);
    // The config line shows the weight compression applied, not the flag's "auto".
    EngineConfig shown = config;
    shown.weight_format = model::weight_format_name(loaded.compression);
    OVLLM_INFO("{}", vllm_log::engine_config_line(shown, max_model_len, kVersion));

    parts.tokenizer = load_tokenizer(config.tokenizer.empty() ? config.model : config.tokenizer);
    parts.eos_token_ids = stop_ids(config.model, parts.model_config, parts.tokenizer.get());
    parts.runner = make_runner(config, loaded);
    parts.scheduler = scheduler_config(config, max_model_len, *parts.runner);
    return parts;
}

}  // namespace ovllm::engine
