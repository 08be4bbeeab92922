#include "hub_models.hpp"

#include <filesystem>

#include "model/model_config.hpp"
#include "util/env_config.hpp"

namespace ovllm::cli {
namespace {

bool names_hub_repo(const std::string& name, bool dummy_weights) {
    std::error_code error;
    if (name.empty() || std::filesystem::exists(name, error)) return false;
    if (dummy_weights && model::builtin_model_config(name)) return false;
    return hub::parse_repo_name(name).has_value();
}

}  // namespace

std::string resolve_hub_model(const std::string& name, const std::string& revision,
                              const std::string& gguf_file, hub::FileSet files,
                              bool dummy_weights) {
    if (!names_hub_repo(name, dummy_weights)) return name;
    const hub::HubRequest request{name, revision, gguf_file, files};
    return hub::resolve(request, config::hub_environment(config::process_environment()))
        .path.string();
}

void resolve_hub_models(EngineConfig& config, const config::HubFlags& flags) {
    const bool dummy = config.load_format == "dummy";
    const std::string model_name = config.model;
    config.model = resolve_hub_model(model_name, flags.revision, flags.gguf_file,
                                     dummy ? hub::FileSet::tokenizer : hub::FileSet::model, dummy);
    const std::string tokenizer_revision =
        flags.tokenizer_revision.empty() ? flags.revision : flags.tokenizer_revision;
    if (config.tokenizer == model_name && tokenizer_revision == flags.revision) {
        config.tokenizer = config.model;  // one repo: its snapshot has the tokenizer too
    } else {
        config.tokenizer =
            resolve_hub_model(config.tokenizer, tokenizer_revision, "", hub::FileSet::tokenizer);
    }
}

}  // namespace ovllm::cli
