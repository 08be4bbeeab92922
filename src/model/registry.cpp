#include "model/registry.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/arch/arch.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

// The one table of families: HF class name -> builder.
constexpr std::pair<const char*, arch::Builder> kBuilders[] = {
    {"GPT2LMHeadModel", arch::build_gpt2},   {"Gemma3ForCausalLM", arch::build_gemma3},
    {"LlamaForCausalLM", arch::build_llama}, {"MistralForCausalLM", arch::build_mistral},
    {"OPTForCausalLM", arch::build_opt},     {"Qwen2ForCausalLM", arch::build_qwen2},
    {"Qwen3ForCausalLM", arch::build_qwen3},
};

}  // namespace

std::vector<std::string> supported_architectures() {
    std::vector<std::string> names;
    for (const auto& [name, builder] : kBuilders) names.emplace_back(name);
    std::sort(names.begin(), names.end());
    return names;
}

std::shared_ptr<ov::Model> build_stateful_model(const ModelConfig& config, WeightSource& weights) {
    const auto* entry = std::find_if(std::begin(kBuilders), std::end(kBuilders),
                                     [&](const auto& e) { return config.architecture == e.first; });
    if (entry == std::end(kBuilders)) {
        throw_error("{}: architecture '{}' is not supported; supported architectures: {}",
                    weights.describe(), config.architecture,
                    fmt::join(supported_architectures(), ", "));
    }
    return entry->second(config, weights);
}

}  // namespace ovllm::model
