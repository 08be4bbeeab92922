#pragma once
// Which files of a hub repo a command needs: the configs, the tokenizer and chat template,
// and one copy of the weights (safetensors + index, or the OpenVINO IR, or one .gguf file),
// never the .bin/.pth/.h5/.msgpack/.onnx duplicates.
#include <filesystem>
#include <string>
#include <vector>

#include "hub/hub.hpp"

namespace ovllm::hub {

struct Selection {
    std::vector<std::string> files;  // repo-relative names, in the repo listing's order
    std::string gguf_file;           // the .gguf picked, when the weights are GGUF
};

// Picks from `repo_files` (a revision's listing). `what` names the repo in errors. Throws
// ovllm::Error when the repo holds no weights ovllm loads (naming what it does hold), when
// `gguf_file` is not in it, or when a quant tag matches no .gguf file (listing the ones
// there are).
Selection select_files(const std::vector<std::string>& repo_files, const HubRequest& request,
                       const RepoName& name, const std::string& what);

// The files of a cached snapshot folder, repo-relative (symlinks count; dangling ones not).
std::vector<std::string> snapshot_files(const std::filesystem::path& snapshot);

// What a cached snapshot still lacks for `request`: for a model, config.json (unless GGUF)
// and the weight shards its model.safetensors.index.json names; for a tokenizer, a
// tokenizer file. Empty when it is complete. `selection` is what select_files made of the snapshot.
std::vector<std::string> missing_from_snapshot(const std::filesystem::path& snapshot,
                                               const Selection& selection,
                                               const HubRequest& request);

}  // namespace ovllm::hub
