#include "model/model_folder.hpp"

#include <array>
#include <fstream>

#include <fmt/ranges.h>

#include "model/model_config.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

namespace fs = std::filesystem;

bool has_gguf_magic(const fs::path& file) {
    std::ifstream stream(file, std::ios::binary);
    std::array<char, 4> magic{};
    stream.read(magic.data(), magic.size());
    return stream.gcount() == 4 && std::string(magic.data(), 4) == "GGUF";
}

bool has_safetensors(const fs::path& folder) {
    for (const auto& entry : fs::directory_iterator(folder)) {
        if (entry.is_regular_file() && entry.path().extension() == ".safetensors") return true;
    }
    return false;
}

ModelLocation classify_folder(const std::string& model, const fs::path& folder) {
    if (fs::exists(folder / "openvino_model.xml")) {
        return {ModelFormat::openvino_ir, folder, model};
    }
    const bool config = fs::exists(folder / "config.json");
    const bool weights = has_safetensors(folder);
    if (config && weights) return {ModelFormat::hf_safetensors, folder, model};
    if (config) {
        throw_error(
            "{}: is not a model folder: config.json but no *.safetensors, no "
            "openvino_model.xml",
            folder.string());
    }
    throw_error("{}: is not a model folder: no config.json, no openvino_model.xml{}",
                folder.string(), weights ? " (*.safetensors without config.json)" : "");
}

}  // namespace

ModelLocation locate_model(const std::string& model) {
    const fs::path path(model);
    std::error_code ignored;
    if (!model.empty() && fs::exists(path, ignored)) {
        if (fs::is_directory(path)) return classify_folder(model, path);
        if (has_gguf_magic(path)) return {ModelFormat::gguf, path, model};
        if (path.extension() == ".gguf") {
            throw_error("{}: not a GGUF file (it does not start with 'GGUF')", model);
        }
        throw_error("{}: is a file but not a GGUF model; expected a model folder or a .gguf file",
                    model);
    }
    if (builtin_model_config(model)) return {ModelFormat::builtin_dummy, {}, model};
    throw_error("{}: no such file or folder, and not a built-in model name ({})", model,
                fmt::join(builtin_model_names(), ", "));
}

const char* model_format_name(ModelFormat format) {
    switch (format) {
        case ModelFormat::hf_safetensors:
            return "safetensors";
        case ModelFormat::openvino_ir:
            return "openvino";
        case ModelFormat::gguf:
            return "gguf";
        case ModelFormat::builtin_dummy:
            return "dummy";
    }
    return "unknown";
}

}  // namespace ovllm::model
