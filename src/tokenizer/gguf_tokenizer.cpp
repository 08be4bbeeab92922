// Tokenizer::from_gguf: the tokenizer.json a GGUF's tokenizer.ggml.* metadata stands for, built
// as transformers' GGUF converter builds it, then loaded by the tokenizer.json path.
#include <algorithm>
#include <set>
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
    // transformers' GGUF loader adds only these three for Qwen2 vocabularies; the other control
    // tokens (<|fim_prefix|>, <tool_call>, ...) stay ordinary vocabulary entries, so text that
    // spells them is split like any text, as the HF tokenizer of these files does.
    static const std::set<std::string, std::less<>> kQwen2Added = {"<|endoftext|>", "<|im_start|>",
                                                                   "<|im_end|>"};
    const bool qwen2 = v.pre == "qwen2";
    Json added = Json::array();
    Json vocab = Json::object();
    for (size_t id = 0; id < v.tokens.size(); ++id) {
        vocab[v.tokens[id]] = id;
        const GgufTokenType type = type_of(v, id);
        if (qwen2) {
            if (kQwen2Added.count(v.tokens[id]) != 0)
                added.push_back(added_token(v.tokens[id], id, true));
        } else if (type == GgufTokenType::control || type == GgufTokenType::user_defined) {
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

// Gemma's GGUFs write runs of spaces as spaces where its vocabulary writes U+2581.
bool is_space_run(std::string_view token) {
    return !token.empty() && token.find_first_not_of(' ') == std::string_view::npos;
}

std::string spelled(const std::string& token) {
    if (!is_space_run(token)) return token;
    std::string out;
    for (size_t i = 0; i < token.size(); ++i) out += kSpaceMark;
    return out;
}

// SentencePiece BPE as ranked merges, derived as transformers' GGUF loader derives them: every
// split of a piece into two pieces of the vocabulary, ranked by the merged piece: by its score
// (sentencepiece log-probabilities), or by its position where the vocabulary is already in
// merge order (Gemma, whose whitespace runs all score -1000). Equal ranks keep vocabulary order;
// one piece's splits go by the scores of their parts, highest first.
Json ranked_merges(const std::vector<std::string>& pieces, const std::vector<float>& scores,
                   bool rank_by_position) {
    std::unordered_map<std::string_view, float> score_of;
    for (size_t i = 0; i < pieces.size(); ++i) score_of.insert_or_assign(pieces[i], scores[i]);
    struct Merge {
        float rank;
        size_t piece;
        float left_score, right_score;
        size_t split;  // byte offset in the piece
    };
    std::vector<Merge> merges;
    for (size_t i = 0; i < pieces.size(); ++i) {
        const std::string_view piece = pieces[i];
        const float rank = rank_by_position ? -static_cast<float>(i) : scores[i];
        for (size_t k = 1; k < piece.size(); ++k) {
            if ((static_cast<unsigned char>(piece[k]) & 0xC0) == 0x80) continue;  // mid-character
            const auto left = score_of.find(piece.substr(0, k));
            const auto right = score_of.find(piece.substr(k));
            if (left == score_of.end() || right == score_of.end()) continue;
            merges.push_back({rank, i, left->second, right->second, k});
        }
    }
    std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
        return std::tie(b.rank, a.piece, b.left_score, b.right_score, a.split) <
               std::tie(a.rank, b.piece, a.left_score, a.right_score, b.split);
    });
    Json out = Json::array();
    for (const Merge& m : merges) {
        const std::string_view piece = pieces[m.piece];
        out.push_back({piece.substr(0, m.split), piece.substr(m.split)});
    }
    return out;
}

// llama: SentencePiece BPE with byte fallback. Spaces are written as U+2581; Gemma's runs of
// spaces are ordinary pieces spelled with U+2581, as in its HF tokenizer.json; other
// user-defined tokens are non-special added tokens, control tokens special ones.
void sentencepiece_json(const GgufVocab& v, Json& root) {
    if (v.scores.size() != v.tokens.size()) {
        throw_error("{}: GGUF metadata 'tokenizer.ggml.scores' has {} entries for {} tokens",
                    v.file, v.scores.size(), v.tokens.size());
    }
    std::vector<std::string> pieces(v.tokens.size());
    bool gemma = false;
    Json added = Json::array();
    for (size_t id = 0; id < v.tokens.size(); ++id) {
        const GgufTokenType type = type_of(v, id);
        gemma = gemma || is_space_run(v.tokens[id]);
        pieces[id] = spelled(v.tokens[id]);
        if (type == GgufTokenType::control ||
            (type == GgufTokenType::user_defined && !is_space_run(v.tokens[id]))) {
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
                     {"merges", ranked_merges(pieces, v.scores, /*rank_by_position=*/gemma)}};
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
