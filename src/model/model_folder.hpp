#pragma once
// What kind of model a `--model` argument names, decided before anything is loaded.
#include <filesystem>
#include <string>

namespace ovllm::model {

enum class ModelFormat {
    hf_safetensors,  // folder with config.json and *.safetensors
    openvino_ir,     // folder with openvino_model.xml (optimum-cli export)
    gguf,            // a *.gguf file starting with the magic "GGUF"
    builtin_dummy,   // a built-in config name (builtin_model_names()), no files
};

struct ModelLocation {
    ModelFormat format = ModelFormat::hf_safetensors;
    std::filesystem::path path;  // the folder or file; empty for builtin_dummy
    std::string name;            // the argument as given
};

// Throws ovllm::Error for a missing path that is not a built-in name, a folder that is none
// of the formats (the message lists what was looked for), or a file that is not GGUF.
// An existing path wins over a built-in name; an IR folder wins over its safetensors.
ModelLocation locate_model(const std::string& model);

const char* model_format_name(ModelFormat format);

}  // namespace ovllm::model
