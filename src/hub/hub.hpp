#pragma once
// Hugging Face Hub names (`--model ORG/NAME`) resolved the way huggingface_hub resolves them:
// the local cache first, a download from the hub's HTTP API only for what is missing. The
// cache is huggingface_hub's own layout, shared with it and with vLLM:
//   <cache>/models--ORG--NAME/refs/<branch or tag>     the commit it points at (40 hex)
//   <cache>/models--ORG--NAME/snapshots/<commit>/<file> relative symlink to ../../blobs/<etag>
//   <cache>/models--ORG--NAME/blobs/<etag>             the content (sha256 for LFS files)
//   <cache>/.locks/models--ORG--NAME/<etag>.lock        one download of a blob at a time
#include <filesystem>
#include <string>

#include "util/env_config.hpp"

namespace ovllm::hub {

// "Qwen/Qwen2.5-0.5B-Instruct" or llama.cpp's "ORG/NAME-GGUF:Q4_K_M" (the quant tag picks
// one .gguf file of the repo).
struct RepoName {
    std::string repo_id;    // ORG/NAME
    std::string quant_tag;  // after ':'; empty when none
};

// Parses `name`; nullopt when it is not of the form ORG/NAME[:TAG] (both parts of letters,
// digits, '-', '_', '.', not starting with '.' or '-', no "..", at most 96 characters each).
std::optional<RepoName> parse_repo_name(const std::string& name);

// What a command needs from the repo.
enum class FileSet {
    model,      // config, tokenizer, generation config, chat template, and the weights:
                // safetensors (+ index) or OpenVINO IR, or one .gguf file
    tokenizer,  // config, tokenizer and chat template files only
};

struct HubRequest {
    std::string name;       // ORG/NAME or ORG/NAME:QUANT
    std::string revision;   // branch, tag or 40-hex commit; empty = main
    std::string gguf_file;  // a .gguf file of the repo (llama.cpp's --hf-file); wins over a tag
    FileSet files = FileSet::model;
};

struct ResolvedModel {
    std::filesystem::path path;  // the snapshot folder, or the .gguf file inside it
    std::string repo_id;
    std::string commit;
    bool downloaded = false;  // some file came from the network this time
};

// Resolves `request` to local files. With everything already in the cache no network is
// touched; offline (HF_HUB_OFFLINE) a missing file is an error naming it. Otherwise the
// missing files are downloaded (with a progress bar each) into the cache. Throws
// ovllm::Error with a one-line message naming the repo, file or URL.
ResolvedModel resolve(const HubRequest& request, const config::HubEnvironment& hub);

}  // namespace ovllm::hub
