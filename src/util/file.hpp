#pragma once
// Whole-file reads for the small text files ovllm loads (config.json, tokenizer.json, chat
// templates, dataset files). Weights are not read through here.
#include <filesystem>
#include <string>

namespace ovllm::util {

// The file's bytes as they are (binary mode, no newline translation). Throws ovllm::Error
// "<path>: cannot open file" or "<path>: read failed".
std::string read_file(const std::filesystem::path& path);

}  // namespace ovllm::util
