#pragma once
// Loading the golden tokenizer data of ../shared/golden/tokenizers/<name>/ for the tests.
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_paths.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ovllm::tokenizer::test {

inline const std::vector<std::string>& golden_names() {
    static const std::vector<std::string> names = {"smollm2", "qwen2.5", "gemma3"};
    return names;
}

inline std::filesystem::path golden_tokenizer_dir(const std::string& name) {
    return ovllm::test::golden_dir() / "tokenizers" / name;
}

// Each golden tokenizer is loaded once per test program.
inline const Tokenizer& golden_tokenizer(const std::string& name) {
    static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
    auto& slot = loaded[name];
    if (!slot)
        slot = std::make_unique<Tokenizer>(Tokenizer::from_folder(golden_tokenizer_dir(name)));
    return *slot;
}

inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::vector<nlohmann::json> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
    }
    return rows;
}

}  // namespace ovllm::tokenizer::test
