// `ovllm download ORG/NAME`: fetches a Hugging Face Hub model into the shared HF cache (as
// `hf download` does, but only the files ovllm loads) and prints the local path.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"
#include "hub/hub.hpp"
#include "util/cli_flags.hpp"
#include "util/env_config.hpp"

namespace ovllm::cli {
namespace {

struct DownloadOptions {
    std::string model;
    std::string revision;
    std::string gguf_file;
    bool tokenizer_only = false;
};

int run_download(const DownloadOptions& o) {
    const hub::HubRequest request{o.model, o.revision, o.gguf_file,
                                  o.tokenizer_only ? hub::FileSet::tokenizer : hub::FileSet::model};
    const hub::ResolvedModel resolved =
        hub::resolve(request, config::hub_environment(config::process_environment()));
    std::printf("%s\n", resolved.path.c_str());
    return 0;
}

}  // namespace

Command add_download_command(CLI::App& app) {
    auto o = std::make_shared<DownloadOptions>();
    CLI::App* cmd = app.add_subcommand(
        "download", "Fetch a Hugging Face Hub model into the HF cache and print its path");
    cmd->add_option("model", o->model, "Hub name ORG/NAME, or ORG/NAME:QUANT for a GGUF repo")
        ->required();
    config::add_hub_flags(*cmd, o->revision, o->gguf_file);
    config::add_bool_flag(*cmd, "tokenizer-only", o->tokenizer_only,
                          "Only the config, tokenizer and chat template files");
    return [o] { return run_download(*o); };
}

}  // namespace ovllm::cli
