#include "structured_output/grammar_compiler.hpp"

#include <chrono>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <regex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "structured_output/grammar_compiler_impl.hpp"
#include "structured_output/schema_check.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

namespace ovllm::structured {
namespace {

VocabType from_xgrammar(xgrammar::VocabType type) {
    switch (type) {
        case xgrammar::VocabType::BYTE_LEVEL:
            return VocabType::byte_level;
        case xgrammar::VocabType::BYTE_FALLBACK:
            return VocabType::byte_fallback;
        case xgrammar::VocabType::RAW:
            break;
    }
    return VocabType::raw;
}

xgrammar::VocabType to_xgrammar(VocabType type) {
    switch (type) {
        case VocabType::byte_level:
            return xgrammar::VocabType::BYTE_LEVEL;
        case VocabType::byte_fallback:
            return xgrammar::VocabType::BYTE_FALLBACK;
        case VocabType::raw:
            break;
    }
    return xgrammar::VocabType::RAW;
}

// A string literal of xgrammar's EBNF: quotes, backslashes and control bytes escaped.
std::string ebnf_literal(const std::string& text) {
    std::string out = "\"";
    for (const char ch : text) {
        const auto byte = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (byte < 0x20) {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

// vLLM's choice form: the output is exactly one of the strings.
std::string choice_grammar(const std::vector<std::string>& choices) {
    std::string rule = "root ::= ";
    for (size_t i = 0; i < choices.size(); ++i) rule += (i ? " | " : "") + ebnf_literal(choices[i]);
    return rule;
}

// The cache key: the form's name and its text, so a regex and a grammar with equal text differ.
std::string cache_key(const StructuredOutputs& so) {
    if (so.json) return "json\n" + *so.json;
    if (so.json_object) return "json_object\n";
    if (so.regex) return "regex\n" + *so.regex;
    if (so.choice) return "choice\n" + nlohmann::json(*so.choice).dump();
    if (so.grammar) return "grammar\n" + *so.grammar;
    if (so.structural_tag) return "structural_tag\n" + *so.structural_tag;
    throw_error("structured_outputs: no form is set");
}

// xgrammar's messages start with "[hh:mm:ss] /path/to/file.cc:83: "; the user needs the rest.
std::string clean_message(std::string text) {
    static const std::regex kLocation(R"(^\[[0-9:]+\] \S+:[0-9]+: )");
    text = std::regex_replace(text, kLocation, "");
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

}  // namespace

GrammarVocabulary vocabulary_from_tokenizer(const tokenizer::Tokenizer& tok,
                                            const std::filesystem::path& tokenizer_json,
                                            size_t logits_width,
                                            const std::vector<int64_t>& stop_ids) {
    GrammarVocabulary vocab;
    const size_t width = std::max(logits_width, tok.vocab_size());
    vocab.tokens.resize(width);
    for (size_t id = 0; id < tok.vocab_size(); ++id)
        if (const auto token = tok.id_to_token(static_cast<int64_t>(id)))
            vocab.tokens[id] = std::string(*token);
    const std::string metadata =
        xgrammar::TokenizerInfo::DetectMetadataFromHF(util::read_file(tokenizer_json));
    const nlohmann::json meta = nlohmann::json::parse(metadata);
    vocab.type = from_xgrammar(static_cast<xgrammar::VocabType>(meta.at("vocab_type").get<int>()));
    vocab.add_prefix_space = meta.at("add_prefix_space").get<bool>();
    for (const int64_t id : stop_ids) vocab.stop_token_ids.push_back(static_cast<int32_t>(id));
    return vocab;
}

CompiledGrammar::CompiledGrammar(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledGrammar::~CompiledGrammar() = default;
size_t CompiledGrammar::memory_bytes() const {
    return impl_->compiled.MemorySizeBytes();
}

// xgrammar's own cache bound: a third for rule-level token masks, the rest for grammars.
constexpr int64_t kXgrammarCacheBytes = int64_t{512} << 20;

struct GrammarCompiler::Impl {
    using Entry = std::pair<std::string, GrammarFuture>;

    xgrammar::TokenizerInfo info;
    xgrammar::GrammarCompiler compiler;
    size_t capacity;
    mutable std::mutex mutex;
    std::mutex compile_mutex;  // held by the one background compile that runs
    std::list<Entry> lru;      // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
    CompileStats stats;

    Impl(const GrammarVocabulary& vocab, int threads, size_t cache_entries)
        : info(vocab.tokens, to_xgrammar(vocab.type), static_cast<int>(vocab.tokens.size()),
               vocab.stop_token_ids, vocab.add_prefix_space),
          // xgrammar's cache stays on for its rule-level part: the token masks of rules that
          // schemas share (strings, numbers, ...) are computed once, which makes a new schema
          // compile several times faster. Lookups by text go through the cache below first.
          compiler(info, threads, /*cache_enabled=*/true, kXgrammarCacheBytes),
          capacity(std::max<size_t>(cache_entries, 1)) {}

    // The grammar of `so`, parsed (cheap): every error of the request's text shows here.
    static xgrammar::Grammar parse(const StructuredOutputs& so) {
        if (so.json) {
            check_json_schema(*so.json);
            // any_whitespace=false: compact JSON (vLLM's disable_any_whitespace). With free
            // whitespace small models tend to emit newlines until max_tokens. strict_mode
            // (the default): no properties or items beyond those the schema names.
            return xgrammar::Grammar::FromJSONSchema(*so.json, /*any_whitespace=*/false);
        }
        if (so.json_object) return xgrammar::Grammar::BuiltinJSONGrammar();
        if (so.regex) return xgrammar::Grammar::FromRegex(*so.regex);
        if (so.choice) return xgrammar::Grammar::FromEBNF(choice_grammar(*so.choice));
        return xgrammar::Grammar::FromEBNF(*so.grammar);
    }

    // The token-mask precomputation (the expensive part), on a thread of its own.
    GrammarFuture compile_in_background(xgrammar::Grammar grammar) {
        return std::async(std::launch::async,
                          [this, grammar = std::move(grammar)] {
                              const auto start = std::chrono::steady_clock::now();
                              auto impl = std::make_unique<CompiledGrammar::Impl>();
                              impl->vocab_size = info.GetVocabSize();
                              {
                                  // One compile at a time (each already uses `threads`): a burst of
                                  // new schemas then finds the rules compiled before it in
                                  // xgrammar's cache, instead of all computing the same string and
                                  // number masks at once.
                                  const std::lock_guard serial(compile_mutex);
                                  impl->compiled = compiler.CompileGrammar(grammar);
                              }
                              const double seconds = std::chrono::duration<double>(
                                                         std::chrono::steady_clock::now() - start)
                                                         .count();
                              const std::lock_guard lock(mutex);
                              stats.compile_seconds += seconds;
                              return std::shared_ptr<const CompiledGrammar>(
                                  std::make_shared<CompiledGrammar>(std::move(impl)));
                          })
            .share();
    }

    GrammarFuture compile_now(const StructuredOutputs& so) {
        std::promise<std::shared_ptr<const CompiledGrammar>> done;
        auto impl = std::make_unique<CompiledGrammar::Impl>();
        impl->vocab_size = info.GetVocabSize();
        impl->compiled = compiler.CompileStructuralTag(*so.structural_tag);
        done.set_value(std::make_shared<CompiledGrammar>(std::move(impl)));
        return done.get_future().share();
    }

    // Call with `mutex` held. The dropped entry goes to `evicted`, for the caller to release
    // after unlocking: the last reference to a running compile waits for it, and the compile
    // takes `mutex` to finish.
    void remember(const std::string& key, GrammarFuture future, std::optional<Entry>& evicted) {
        ++stats.compiles;
        lru.emplace_front(key, std::move(future));
        index.emplace(key, lru.begin());
        if (lru.size() > capacity) {
            index.erase(lru.back().first);
            evicted = std::move(lru.back());
            lru.pop_back();
        }
    }
};

GrammarCompiler::GrammarCompiler(const GrammarVocabulary& vocab, int threads, size_t cache_entries)
    : impl_(std::make_unique<Impl>(vocab, std::max(threads, 1), cache_entries)) {}

GrammarCompiler::~GrammarCompiler() = default;

size_t GrammarCompiler::vocab_size() const {
    return static_cast<size_t>(impl_->info.GetVocabSize());
}

CompileStats GrammarCompiler::stats() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

GrammarFuture GrammarCompiler::compile_async(const StructuredOutputs& so) {
    const std::string key = cache_key(so);
    std::optional<Impl::Entry> evicted;  // released after the lock (see remember)
    const std::lock_guard lock(impl_->mutex);
    if (const auto it = impl_->index.find(key); it != impl_->index.end()) {
        impl_->lru.splice(impl_->lru.begin(), impl_->lru, it->second);
        ++impl_->stats.cache_hits;
        return it->second->second;  // compiled, or compiling for an earlier request
    }
    GrammarFuture future;
    try {
        future = so.structural_tag ? impl_->compile_now(so)
                                   : impl_->compile_in_background(Impl::parse(so));
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw_error("structured output {} is invalid: {}", key.substr(0, key.find('\n')),
                    clean_message(e.what()));
    }
    impl_->remember(key, future, evicted);
    return future;
}

std::shared_ptr<const CompiledGrammar> GrammarCompiler::compile(const StructuredOutputs& so) {
    return compile_async(so).get();
}

void GrammarCompiler::warm_up() {
    // The leaf rules JSON schemas share: strings, integers, numbers, booleans, null, arrays.
    StructuredOutputs so;
    so.json = R"({"type": "object", "properties": {"s": {"type": "string"},
        "i": {"type": "integer"}, "n": {"type": "number"}, "b": {"type": "boolean"},
        "z": {"type": "null"}, "a": {"type": "array", "items": {"type": "string"}}}})";
    compile_async(so);
}

}  // namespace ovllm::structured
