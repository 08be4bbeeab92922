#pragma once
// A compiled PCRE2 pattern (UTF + Unicode properties, JIT) for the patterns tokenizer.json
// files carry. Those are written for Oniguruma; translate() rewrites what PCRE2 reads
// differently. Matching is const and thread-safe (per-thread match data).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ovllm::tokenizer {

struct Span {
    uint32_t begin;  // byte offsets, end exclusive
    uint32_t end;
};

class Regex {
  public:
    // Throws ovllm::Error naming `where` when the pattern does not compile.
    Regex(std::string_view pattern, const std::string& where);
    ~Regex();
    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;

    // Appends every non-overlapping match, left to right. `text` must be valid UTF-8.
    void find_all(std::string_view text, std::vector<Span>& out) const;

    // The pattern as given to PCRE2.
    static std::string translate(std::string_view pattern);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ovllm::tokenizer
