#pragma once
// A fast reader for tokenizer.json. The vocabulary and merges (hundreds of thousands of
// entries) go straight into flat vectors; every other value becomes an nlohmann::json so the
// stage builders read it as usual. Errors name the file and the byte offset.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/json_util.hpp"

namespace ovllm::tokenizer {

struct TokenizerJson {
    Json root;  // the whole document except model.vocab and model.merges
    bool has_vocab = false;
    bool has_merges = false;
    std::vector<std::pair<std::string, int64_t>> vocab;  // in file order
    // Each merge as its two halves; a merge that is neither "a b" nor ["a", "b"] is kept as
    // {text, "\x01bad"} so the model can report its JSON path.
    std::vector<std::pair<std::string, std::string>> merges;
};

inline constexpr std::string_view kBadMerge =
    "\x01"
    "bad";

TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& file);

// A whole JSON document into nlohmann::json, with the same error messages.
Json parse_json_document(std::string_view text, const std::string& file);

}  // namespace ovllm::tokenizer
