#include "hub/file_selection.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace ovllm::hub {
namespace fs = std::filesystem;
namespace {

// Everything the tokenizer, the chat template and the engine's config readers may open.
const std::set<std::string>& config_and_tokenizer_files() {
    static const std::set<std::string> files = {
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "vocab.txt",
        "merges.txt",
        "tokenizer.model",
        "chat_template.jinja",
        "chat_template.json",
    };
    return files;
}

constexpr const char* kSafetensorsIndex = "model.safetensors.index.json";
constexpr const char* kIrModel = "openvino_model.xml";

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool top_level(const std::string& file) {
    return file.find('/') == std::string::npos;
}

bool is_ir_file(const std::string& file) {
    return top_level(file) && file.starts_with("openvino_") &&
           (ends_with(file, ".xml") || ends_with(file, ".bin") || ends_with(file, ".json"));
}

// Model .gguf files: multimodal projectors (mmproj) are not a language model.
std::vector<std::string> gguf_files(const std::vector<std::string>& files) {
    std::vector<std::string> found;
    for (const std::string& file : files) {
        if (ends_with(lower(file), ".gguf") && lower(file).find("mmproj") == std::string::npos)
            found.push_back(file);
    }
    return found;
}

// llama.cpp's ORG/NAME:QUANT: the first .gguf whose name holds the tag (any case); of a
// split model ("-00001-of-00003.gguf") its first part.
std::string pick_gguf(const std::vector<std::string>& ggufs, const HubRequest& request,
                      const RepoName& name, const std::string& what) {
    const auto listed = [&] { return fmt::format("{}", fmt::join(ggufs, ", ")); };
    if (!request.gguf_file.empty()) {
        if (std::find(ggufs.begin(), ggufs.end(), request.gguf_file) != ggufs.end())
            return request.gguf_file;
        throw_error("--gguf-file: {} has no file '{}' (.gguf files: {})", what, request.gguf_file,
                    ggufs.empty() ? "none" : listed());
    }
    if (name.quant_tag.empty() && ggufs.size() == 1) return ggufs.front();
    // Without a tag llama.cpp takes Q4_K_M, its default quantization.
    const std::string tag = lower(name.quant_tag.empty() ? "Q4_K_M" : name.quant_tag);
    std::vector<std::string> matches;
    for (const std::string& file : ggufs) {
        const std::string base = lower(fs::path(file).filename().string());
        const bool first_part =
            base.find("-of-") == std::string::npos || base.find("-00001-of-") != std::string::npos;
        if (base.find(tag) != std::string::npos && first_part) matches.push_back(file);
    }
    if (matches.empty()) {
        throw_error(
            "{}: no .gguf file matches the quant tag '{}' (.gguf files: {}); name one "
            "with ORG/NAME:TAG or --gguf-file",
            what, name.quant_tag.empty() ? "Q4_K_M (the default)" : name.quant_tag,
            ggufs.empty() ? "none" : listed());
    }
    std::sort(matches.begin(), matches.end());
    return matches.front();
}

void add_config_files(const std::vector<std::string>& repo_files, Selection& selection) {
    for (const std::string& file : repo_files) {
        if (config_and_tokenizer_files().contains(file)) selection.files.push_back(file);
    }
}

}  // namespace

Selection select_files(const std::vector<std::string>& repo_files, const HubRequest& request,
                       const RepoName& name, const std::string& what) {
    Selection selection;
    add_config_files(repo_files, selection);
    if (request.files == FileSet::tokenizer) return selection;

    const auto has = [&](const std::string& file) {
        return std::find(repo_files.begin(), repo_files.end(), file) != repo_files.end();
    };
    const std::vector<std::string> ggufs = gguf_files(repo_files);
    const bool wants_gguf = !request.gguf_file.empty() || !name.quant_tag.empty();
    const bool has_safetensors = std::any_of(
        repo_files.begin(), repo_files.end(),
        [](const std::string& file) { return top_level(file) && ends_with(file, ".safetensors"); });

    if (wants_gguf || (!has(kIrModel) && !has_safetensors && !ggufs.empty())) {
        selection.gguf_file = pick_gguf(ggufs, request, name, what);
        selection.files.push_back(selection.gguf_file);
    } else if (has(kIrModel)) {
        for (const std::string& file : repo_files) {
            if (is_ir_file(file)) selection.files.push_back(file);
        }
    } else if (has_safetensors) {
        for (const std::string& file : repo_files) {
            if (top_level(file) && (ends_with(file, ".safetensors") || file == kSafetensorsIndex))
                selection.files.push_back(file);
        }
    } else {
        std::set<std::string> kinds;
        for (const std::string& file : repo_files) {
            const std::string extension = fs::path(file).extension().string();
            if (!extension.empty() && !config_and_tokenizer_files().contains(file))
                kinds.insert("*" + extension);
        }
        throw_error(
            "{}: no weights ovllm loads (*.safetensors, openvino_model.xml or *.gguf); the repo "
            "has {}",
            what, kinds.empty() ? "no weight files" : fmt::format("{}", fmt::join(kinds, ", ")));
    }
    return selection;
}

std::vector<std::string> snapshot_files(const fs::path& snapshot) {
    std::vector<std::string> files;
    std::error_code error;
    if (!fs::is_directory(snapshot, error)) return files;
    for (auto it = fs::recursive_directory_iterator(snapshot, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        // exists() follows the symlink: a link whose blob is gone does not count.
        if (!it->is_directory(error) && fs::exists(it->path(), error))
            files.push_back(it->path().lexically_relative(snapshot).generic_string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string> missing_from_snapshot(const fs::path& snapshot, const Selection& selection,
                                               const HubRequest& request) {
    std::vector<std::string> missing;
    std::error_code error;
    const auto present = [&](const std::string& file) {
        return fs::exists(snapshot / file, error);
    };
    if (request.files == FileSet::tokenizer) {
        // Only a tokenizer is asked for: it must be there. A model may come without one (as
        // huggingface_hub, ovllm does not know offline whether the repo has one).
        if (!present("tokenizer.json") && !present("tokenizer.model") &&
            !present("tokenizer_config.json"))
            missing.push_back("tokenizer.json");
        return missing;
    }
    if (selection.gguf_file.empty() && !present("config.json")) missing.push_back("config.json");

    if (present(kSafetensorsIndex)) {
        // Every shard the index maps a tensor to.
        std::ifstream in(snapshot / kSafetensorsIndex);
        const nlohmann::json index = nlohmann::json::parse(in, nullptr, false);
        std::set<std::string> shards;
        if (index.is_object() && index.contains("weight_map") && index["weight_map"].is_object()) {
            for (const auto& [tensor, shard] : index["weight_map"].items()) {
                if (shard.is_string()) shards.insert(shard.get<std::string>());
            }
        }
        for (const std::string& shard : shards) {
            if (!present(shard)) missing.push_back(shard);
        }
    }
    if (present(kIrModel) && !present("openvino_model.bin"))
        missing.push_back("openvino_model.bin");
    return missing;
}

}  // namespace ovllm::hub
