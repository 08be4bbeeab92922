#pragma once
// Structured output, compile side: the model's vocabulary described once for xgrammar, and
// a grammar compiler with a cache keyed by the request's form and text (schema, regex, ...).
// xgrammar stays behind this header (pimpl), so its headers reach only this folder.
//
// Thread safety: GrammarCompiler::compile may be called from several threads at once. The
// compiler must outlive the futures it hands out.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "ovllm/sampling_params.hpp"

namespace ovllm::tokenizer {
class Tokenizer;
}

namespace ovllm::structured {

// How token strings spell bytes (xgrammar's VocabType).
enum class VocabType {
    raw,            // the token string is the text
    byte_fallback,  // SentencePiece: "<0x0A>" tokens for bytes, "▁" for a space
    byte_level,     // GPT-2: every byte mapped to a printable character ("Ġ" for a space)
};

// The vocabulary as the grammar engine sees it.
struct GrammarVocabulary {
    std::vector<std::string> tokens;  // [logits width] token strings as stored; "" for no token
    VocabType type = VocabType::raw;
    bool add_prefix_space = false;        // SentencePiece prepends "▁" to the first word
    std::vector<int32_t> stop_token_ids;  // EOS and friends: end a finished grammar
};

// Reads the vocabulary of `tok` and the vocabulary type from its tokenizer.json (the decoder
// and pre-tokenizer tell byte-level from byte-fallback). `logits_width` is the model's output
// width, at least the tokenizer's id count: ids without a token can never be generated.
GrammarVocabulary vocabulary_from_tokenizer(const tokenizer::Tokenizer& tok,
                                            const std::filesystem::path& tokenizer_json,
                                            size_t logits_width,
                                            const std::vector<int64_t>& stop_ids);

// One compiled grammar, shared by every sequence that uses it (read-only once built).
class CompiledGrammar {
  public:
    struct Impl;
    explicit CompiledGrammar(std::unique_ptr<Impl> impl);
    ~CompiledGrammar();
    const Impl& impl() const { return *impl_; }
    size_t memory_bytes() const;

  private:
    std::unique_ptr<Impl> impl_;
};

struct CompileStats {
    uint64_t compiles = 0;         // cache misses that compiled
    uint64_t cache_hits = 0;       // requests served from the cache
    double compile_seconds = 0.0;  // wall seconds of finished background compiles
};

// A grammar being compiled in the background (or already compiled).
using GrammarFuture = std::shared_future<std::shared_ptr<const CompiledGrammar>>;

class GrammarCompiler {
  public:
    // `threads`: how many threads one compile may use (xgrammar splits the token mask
    // precomputation). `cache_entries`: compiled grammars kept, least recently used dropped.
    GrammarCompiler(const GrammarVocabulary& vocab, int threads, size_t cache_entries = 256);
    ~GrammarCompiler();

    // Checks and parses `so` now, then precomputes its token masks (the expensive part) on a
    // background thread; the future is shared with every request of the same form and text.
    // Throws ovllm::Error for an invalid or unsupported schema, regex, grammar or tag; the
    // message names the JSON path ("$.properties.age") or the line:column.
    GrammarFuture compile_async(const StructuredOutputs& so);
    // compile_async(so).get().
    std::shared_ptr<const CompiledGrammar> compile(const StructuredOutputs& so);

    // Starts compiling a schema made of the common leaf types, so that a first request's
    // schema finds their token masks in xgrammar's rule cache.
    void warm_up();

    CompileStats stats() const;
    size_t vocab_size() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ovllm::structured
