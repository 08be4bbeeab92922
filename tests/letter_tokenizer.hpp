#pragma once
// A tokenizer of a few lines of tokenizer.json, for tests that need text without a model.
// Each printable ASCII character is one token with id = byte + 3; 1 is <s> and 2 is </s>
// (both special); 260 is the three-character token "cde". No merges and no pre-tokenizer,
// so encode() gives one id per character; the Fuse decoder joins tokens as they are.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.hpp"

namespace ovllm::test {

inline constexpr int64_t kLetterBos = 1;
inline constexpr int64_t kLetterEos = 2;
inline constexpr int64_t kLetterCde = 260;
inline constexpr int64_t kLetterVocabSize = 300;  // ids past 260 are valid but have no text

inline int64_t letter_id(char c) {
    return int64_t(static_cast<unsigned char>(c)) + 3;
}

inline std::vector<int64_t> letter_ids(std::string_view text) {
    std::vector<int64_t> ids;
    for (const char c : text) ids.push_back(letter_id(c));
    return ids;
}

inline tokenizer::Tokenizer letter_tokenizer() {
    nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
    vocab["<s>"] = kLetterBos;
    vocab["</s>"] = kLetterEos;
    for (char c = ' '; c <= '~'; ++c) vocab[std::string(1, c)] = letter_id(c);
    vocab["cde"] = kLetterCde;
    nlohmann::ordered_json added = nlohmann::ordered_json::array();
    for (const auto& [id, content] :
         {std::pair<int64_t, const char*>{kLetterBos, "<s>"}, {kLetterEos, "</s>"}}) {
        added.push_back({{"id", id},
                         {"content", content},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
    }
    const nlohmann::ordered_json root = {
        {"added_tokens", added},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::ordered_json::array()}}},
        {"decoder", {{"type", "Fuse"}}}};
    return tokenizer::Tokenizer::from_json_text(root.dump(), "letter tokenizer");
}

}  // namespace ovllm::test
