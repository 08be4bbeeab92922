#include "model/registry.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.hpp"

// Every family, one name each; arch/<name>.cpp defines `extern const Family <name>`.
// Adding a family: a new arch/<name>.cpp and its name here.
#define OVLLM_MODEL_FAMILIES(X) X(gemma3) X(gpt2) X(llama) X(mistral) X(opt) X(qwen2) X(qwen3)

namespace ovllm::model {
namespace arch {
#define OVLLM_DECLARE_FAMILY(name) extern const Family name;
OVLLM_MODEL_FAMILIES(OVLLM_DECLARE_FAMILY)
#undef OVLLM_DECLARE_FAMILY
}  // namespace arch

namespace {

#define OVLLM_FAMILY_ADDRESS(name) &arch::name,
constexpr const Family* kFamilies[] = {OVLLM_MODEL_FAMILIES(OVLLM_FAMILY_ADDRESS)};
#undef OVLLM_FAMILY_ADDRESS

bool contains(std::span<const std::string_view> names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

const Family* family_for_architecture(const std::string& architecture) {
    for (const Family* family : kFamilies)
        if (contains(family->hf_classes, architecture)) return family;
    return nullptr;
}

}  // namespace

std::span<const Family* const> model_families() {
    return kFamilies;
}

const Family* family_for_model_type(const std::string& model_type) {
    for (const Family* family : kFamilies)
        if (contains(family->model_types, model_type)) return family;
    return nullptr;
}

const Family* family_for_gguf(const std::string& architecture) {
    for (const Family* family : kFamilies)
        if (family->gguf && architecture == family->gguf->architecture) return family;
    return nullptr;
}

std::vector<std::string> supported_architectures() {
    std::vector<std::string> names;
    for (const Family* family : kFamilies)
        for (const std::string_view name : family->hf_classes) names.emplace_back(name);
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> supported_gguf_architectures() {
    std::vector<std::string> names;
    for (const Family* family : kFamilies)
        if (family->gguf) names.emplace_back(family->gguf->architecture);
    std::sort(names.begin(), names.end());
    return names;
}

std::shared_ptr<ov::Model> build_stateful_model(const ModelConfig& config, WeightSource& weights) {
    const Family* family = family_for_architecture(config.architecture);
    if (!family) {
        throw_error("{}: architecture '{}' is not supported; supported architectures: {}",
                    weights.describe(), config.architecture,
                    fmt::join(supported_architectures(), ", "));
    }
    return family->build(config, weights);
}

}  // namespace ovllm::model
