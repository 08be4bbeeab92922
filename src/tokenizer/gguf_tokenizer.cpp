// Tokenizer::from_gguf: the tokenizer.json a GGUF's tokenizer.ggml.* metadata stands for, built
// as transformers' GGUF converter builds it, then loaded by the tokenizer.json path.
#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "tokenizer/gguf_vocab.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

namespace ovllm::tokenizer {
namespace {

using Json = nlohmann::json;  // keys sorted: a 262k-token vocabulary builds in O(n log n)

// llama.cpp's pre-tokenizer regexes by tokenizer.ggml.pre (src/llama-vocab.cpp), as the HF
// tokenizers of those models write them.
constexpr const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kSupportedPre = "gpt-2, smollm, qwen2, llama-bpe";

Json byte_level(bool use_regex) {
    return {{"type", "ByteLevel"},
            {"add_prefix_space", false},
            {"trim_offsets", true},
            {"use_regex", use_regex}};
}

Json split_then_byte_level(const char* regex) {
    const Json split = {{"type", "Split"},
                        {"pattern", {{"Regex", regex}}},
                        {"behavior", "Isolated"},
                        {"invert", false}};
    return {{"type", "Sequence"}, {"pretokenizers", Json::array({split, byte_level(false)})}};
}

// Sets "normalizer" and "pre_tokenizer" of a byte-level BPE by tokenizer.ggml.pre.
void byte_level_stages(const GgufVocab& v, Json& root) {
    const std::string& pre = v.pre;
    if (pre.empty() || pre == "default" || pre == "gpt-2" || pre == "smollm") {
        root["pre_tokenizer"] = byte_level(true);
    } else if (pre == "qwen2") {
        root["normalizer"] = {{"type", "NFC"}};
        root["pre_tokenizer"] = split_then_byte_level(kQwen2Regex);
    } else if (pre == "llama-bpe" || pre == "llama3") {
        root["pre_tokenizer"] = split_then_byte_level(kLlama3Regex);
    } else {
        throw_error(
            "{}: tokenizer.ggml.pre '{}' is not supported ({}); pass --tokenizer with the "
            "model's Hugging Face tokenizer folder",
            v.file, pre, kSupportedPre);
    }
    root["decoder"] = byte_level(true);
}

// BOS/EOS the post-processor adds with add_special_tokens.
Json template_processing(const GgufVocab& v, bool add_bos, bool add_eos) {
    Json single = Json::array();
    Json special = Json::object();
    const auto add = [&](int64_t id) {
        const std::string& content = v.tokens.at(static_cast<size_t>(id));
        single.push_back({{"SpecialToken", {{"id", content}, {"type_id", 0}}}});
        special[content] = {{"id", content}, {"ids", {id}}, {"tokens", {content}}};
    };
    if (add_bos && v.bos_id) add(*v.bos_id);
    single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
    if (add_eos && v.eos_id) add(*v.eos_id);
    return {{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", special}};
}

GgufTokenType type_of(const GgufVocab& v, size_t id) {
    return static_cast<GgufTokenType>(v.token_types.empty() ? int32_t{1} : v.token_types[id]);
}

Json added_token(const std::string& content, size_t id, bool special) {
    return {{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
            {"rstrip", false}, {"normalized", false}, {"special", special}};
}

// gpt2: byte-level BPE; the tokens are already in the byte-to-unicode alphabet.
void byte_level_json(const GgufVocab& v, Json& root) {
    if (v.merges.empty()) {
        throw_error("{}: GGUF metadata 'tokenizer.ggml.merges' is missing", v.file);
    }
    Json added = Json::array();
    Json vocab = Json::object();
    for (size_t id = 0; id < v.tokens.size(); ++id) {
        vocab[v.tokens[id]] = id;
        const GgufTokenType type = type_of(v, id);
        if (type == GgufTokenType::control || type == GgufTokenType::user_defined) {
            added.push_back(added_token(v.tokens[id], id, type == GgufTokenType::control));
        }
    }
    root["added_tokens"] = std::move(added);
    byte_level_stages(v, root);
    root["post_processor"] =
        template_processing(v, v.add_bos.value_or(false), v.add_eos.value_or(false));
    root["model"] = {
        {"type", "BPE"},          {"fuse_unk", false},         {"byte_fallback", false},
        {"ignore_merges", false}, {"vocab", std::move(vocab)}, {"merges", v.merges}};
}

constexpr std::string_view kSpaceMark = "\u2581";  // SentencePiece's visible space

std::string mark_spaces(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == ' ')
            out += kSpaceMark;
        else
            out += c;
    }
    return out;
}

size_t code_points(std::string_view s) {
    return static_cast<size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// SentencePiece BPE as ranked merges, derived from the scores as transformers derives them:
// every split of a piece into two pieces of the vocabulary, ranked by the merged piece's score
// (highest first), then by longer left and right parts (in code points), then by the ids of the
// piece, the left and the right part.
Json merges_from_scores(const std::vector<std::string>& pieces, const std::vector<float>& scores) {
    std::unordered_map<std::string_view, int64_t> ids;
    for (size_t i = 0; i < pieces.size(); ++i) ids.insert_or_assign(pieces[i], i);
    struct Merge {
        float score;
        size_t left_chars, right_chars;
        int64_t piece, left, right;
        size_t split;  // byte offset in the piece
    };
    std::vector<Merge> merges;
    for (size_t i = 0; i < pieces.size(); ++i) {
        const std::string_view piece = pieces[i];
        for (size_t k = 1; k < piece.size(); ++k) {
            if ((static_cast<unsigned char>(piece[k]) & 0xC0) == 0x80) continue;  // mid-character
            const auto left = ids.find(piece.substr(0, k));
            const auto right = ids.find(piece.substr(k));
            if (left == ids.end() || right == ids.end()) continue;
            merges.push_back({scores[i], code_points(piece.substr(0, k)),
                              code_points(piece.substr(k)), static_cast<int64_t>(i), left->second,
                              right->second, k});
        }
    }
    std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
        return std::tie(b.score, b.left_chars, b.right_chars, a.piece, a.left, a.right) <
               std::tie(a.score, a.left_chars, a.right_chars, b.piece, b.left, b.right);
    });
    Json out = Json::array();
    for (const Merge& m : merges) {
        const std::string_view piece = pieces[static_cast<size_t>(m.piece)];
        out.push_back({piece.substr(0, m.split), piece.substr(m.split)});
    }
    return out;
}

// llama: SentencePiece BPE with byte fallback. Spaces are written as U+2581; user-defined
// tokens spelled with spaces (runs of spaces) are ordinary pieces spelled with U+2581, as in
// the HF tokenizer.json of the same model; other user-defined tokens are non-special added
// tokens, control tokens special ones.
void sentencepiece_json(const GgufVocab& v, Json& root) {
    if (v.scores.size() != v.tokens.size()) {
        throw_error("{}: GGUF metadata 'tokenizer.ggml.scores' has {} entries for {} tokens",
                    v.file, v.scores.size(), v.tokens.size());
    }
    std::vector<std::string> pieces(v.tokens.size());
    Json added = Json::array();
    for (size_t id = 0; id < v.tokens.size(); ++id) {
        const GgufTokenType type = type_of(v, id);
        const bool spelled_with_spaces = v.tokens[id].find(' ') != std::string::npos;
        pieces[id] = type == GgufTokenType::user_defined ? mark_spaces(v.tokens[id]) : v.tokens[id];
        if (type == GgufTokenType::control ||
            (type == GgufTokenType::user_defined && !spelled_with_spaces)) {
            added.push_back(added_token(pieces[id], id, type == GgufTokenType::control));
        }
    }
    Json vocab = Json::object();
    for (size_t id = 0; id < pieces.size(); ++id) vocab[pieces[id]] = id;
    const bool prefix = v.add_space_prefix.value_or(false);
    Json replace = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpaceMark}};
    root["added_tokens"] = std::move(added);
    root["normalizer"] =
        prefix ? Json{{"type", "Sequence"},
                      {"normalizers",
                       Json::array({{{"type", "Prepend"}, {"prepend", kSpaceMark}}, replace})}}
               : replace;
    Json decoders =
        Json::array({{{"type", "Replace"}, {"pattern", {{"String", kSpaceMark}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}}});
    if (prefix)
        decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    root["decoder"] = {{"type", "Sequence"}, {"decoders", std::move(decoders)}};
    root["post_processor"] =
        template_processing(v, v.add_bos.value_or(true), v.add_eos.value_or(false));
    const auto unk = v.unk_id ? Json(v.tokens[static_cast<size_t>(*v.unk_id)]) : Json();
    root["model"] = {{"type", "BPE"},
                     {"unk_token", unk},
                     {"fuse_unk", true},
                     {"byte_fallback", true},
                     {"ignore_merges", false},
                     {"vocab", std::move(vocab)},
                     {"merges", merges_from_scores(pieces, v.scores)}};
}

void check(const GgufVocab& v) {
    if (v.tokens.empty())
        throw_error("{}: GGUF metadata 'tokenizer.ggml.tokens' is missing", v.file);
    if (!v.token_types.empty() && v.token_types.size() != v.tokens.size()) {
        throw_error("{}: GGUF metadata 'tokenizer.ggml.token_type' has {} entries for {} tokens",
                    v.file, v.token_types.size(), v.tokens.size());
    }
    for (const auto& id : {v.bos_id, v.eos_id, v.unk_id, v.pad_id}) {
        if (id && (*id < 0 || static_cast<size_t>(*id) >= v.tokens.size())) {
            throw_error("{}: GGUF special token id {} is outside the {} tokens", v.file, *id,
                        v.tokens.size());
        }
    }
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const GgufVocab& v) {
    check(v);
    Json root = Json::object();
    if (v.model == "gpt2") {
        byte_level_json(v, root);
    } else if (v.model == "llama") {
        sentencepiece_json(v, root);
    } else {
        throw_error(
            "{}: tokenizer.ggml.model '{}' is not supported (gpt2, llama); pass --tokenizer with "
            "the model's Hugging Face tokenizer folder",
            v.file, v.model);
    }
    Tokenizer tokenizer = from_json_text(root.dump(), v.file + " (tokenizer.ggml.*)");
    tokenizer.name_special_tokens(v.bos_id, v.eos_id, v.pad_id, v.unk_id);
    return tokenizer;
}

}  // namespace ovllm::tokenizer
