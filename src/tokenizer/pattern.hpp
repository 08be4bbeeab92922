#pragma once
// The "pattern" of Split, Replace: {"String": "literal"} or {"Regex": "..."}.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_util.hpp"
#include "tokenizer/regex.hpp"

namespace ovllm::tokenizer {

class Pattern {
  public:
    static Pattern from_json(const Json& node, const JsonPath& at);

    // Non-overlapping matches, left to right, appended to `out`.
    void find_all(std::string_view text, std::vector<Span>& out) const;
    void replace_all(std::string& text, std::string_view content) const;

  private:
    std::string literal_;
    std::optional<Regex> regex_;
};

}  // namespace ovllm::tokenizer
