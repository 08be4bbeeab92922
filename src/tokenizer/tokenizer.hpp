#pragma once
// Text <-> token ids, equal to Hugging Face `tokenizers` for the tokenizer.json files it loads:
// BPE models with their normalizer, pre-tokenizer, post-processor, decoder and added tokens.
//
// Thread safety: every const method may be called from several threads at once.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ovllm::tokenizer {

struct GgufVocab;

// A special token named by tokenizer_config.json (bos_token, eos_token, ...).
struct NamedToken {
    std::string content;
    std::optional<int64_t> id;  // empty when the vocabulary lacks the content
};

class Tokenizer {
  public:
    // Loads <dir>/tokenizer.json and, when present, <dir>/tokenizer_config.json.
    static Tokenizer from_folder(const std::filesystem::path& dir);
    // Loads one tokenizer.json; `config` (tokenizer_config.json) is optional.
    static Tokenizer from_file(const std::filesystem::path& tokenizer_json,
                               const std::filesystem::path& config = {});
    // Parses tokenizer.json text held in memory; `name` labels error messages.
    static Tokenizer from_json_text(std::string_view tokenizer_json,
                                    std::string_view name = "tokenizer.json");

    // The tokenizer a GGUF file's tokenizer.ggml.* metadata describes (gguf_vocab.hpp), with
    // bos/eos/pad/unk named by its token ids. Throws ovllm::Error naming the file and key.
    static Tokenizer from_gguf(const GgufVocab& vocab);

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    // Ids of `text`. Added tokens in the text are always matched; add_special_tokens lets the
    // post-processor add the model's BOS/EOS. Throws ovllm::Error for invalid UTF-8.
    std::vector<int64_t> encode(std::string_view text, bool add_special_tokens) const;

    // Text of `ids`; unknown ids are skipped, invalid UTF-8 becomes U+FFFD.
    std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const;

    // Token string of an id (added tokens included), nullopt for unknown ids.
    std::optional<std::string_view> id_to_token(int64_t id) const;
    std::optional<int64_t> token_to_id(std::string_view token) const;
    // Number of id slots: largest id of the vocabulary or added tokens + 1.
    size_t vocab_size() const;
    // True for added tokens marked special (skipped by skip_special_tokens).
    bool is_special(int64_t id) const;

    // From tokenizer_config.json (string or {"content": ...}); empty when not named there.
    const std::optional<NamedToken>& bos_token() const;
    const std::optional<NamedToken>& eos_token() const;
    const std::optional<NamedToken>& pad_token() const;
    const std::optional<NamedToken>& unk_token() const;
    std::optional<int64_t> bos_token_id() const;
    std::optional<int64_t> eos_token_id() const;
    std::optional<int64_t> pad_token_id() const;

  private:
    struct Impl;
    explicit Tokenizer(std::unique_ptr<Impl> impl);
    void load_config(const std::filesystem::path& config);
    // Names the special tokens by id (GGUF); an absent or unknown id leaves the token unnamed.
    void name_special_tokens(std::optional<int64_t> bos, std::optional<int64_t> eos,
                             std::optional<int64_t> pad, std::optional<int64_t> unk);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ovllm::tokenizer
