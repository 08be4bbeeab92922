#pragma once
// The tokenizer a GGUF file carries in its tokenizer.ggml.* metadata, as plain data (the model
// stage reads the file; this stage does not depend on it). Tokenizer::from_gguf turns it into
// the same pipeline a tokenizer.json describes, as transformers' GGUF loader does:
//   gpt2  -> byte-level BPE with the merges, the pre-tokenizer regex of tokenizer.ggml.pre
//   llama -> SentencePiece-style BPE with byte fallback, merges ranked by the merged piece's score
// CONTROL tokens (type 3) become special added tokens, USER_DEFINED (4) non-special ones.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ovllm::tokenizer {

struct GgufVocab {
    std::string file;   // for messages
    std::string model;  // tokenizer.ggml.model: "gpt2" or "llama"
    std::string pre;    // tokenizer.ggml.pre: "qwen2", "smollm", "llama-bpe", ... ("" = gpt-2)
    std::vector<std::string> tokens;
    std::vector<std::string> merges;  // "left right"
    std::vector<int32_t> token_types;
    std::vector<float> scores;
    std::optional<int64_t> bos_id, eos_id, unk_id, pad_id;
    std::optional<bool> add_bos, add_eos, add_space_prefix;
};

// ggml token types (llama.cpp's llama_token_type).
enum class GgufTokenType : int32_t {
    normal = 1,
    unknown = 2,
    control = 3,
    user_defined = 4,
    unused = 5,
    byte = 6
};

}  // namespace ovllm::tokenizer
