#pragma once
// Model arguments that name a Hugging Face Hub repo (ORG/NAME, ORG/NAME:QUANT) become the
// local snapshot paths src/hub resolves them to; everything else is left as given.
#include <string>

#include "hub/hub.hpp"
#include "ovllm/config.hpp"
#include "util/cli_flags.hpp"

namespace ovllm::cli {

// Call after config::resolve_engine_config: rewrites config.model and config.tokenizer.
// A built-in config name under --load-format dummy stays a name; an existing path wins.
void resolve_hub_models(EngineConfig& config, const config::HubFlags& flags);

// One argument of a command without the engine flags (info, convert, tokenize).
std::string resolve_hub_model(const std::string& name, const std::string& revision,
                              const std::string& gguf_file, hub::FileSet files,
                              bool dummy_weights = false);

}  // namespace ovllm::cli
