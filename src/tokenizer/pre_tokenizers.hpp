#pragma once
// Pre-tokenizers of tokenizer.json ("pre_tokenizer"): cut normalized text into words that the
// model encodes one by one. Supported types: ByteLevel, Split, Digits, Metaspace, Punctuation,
// Whitespace, WhitespaceSplit, Sequence.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_util.hpp"

namespace ovllm::tokenizer {

class PreTokenizer {
  public:
    virtual ~PreTokenizer() = default;
    // Replaces `pieces` by their finer split; empty pieces are dropped. `at_text_start` is true
    // when pieces[0] begins the input text (Metaspace's "first" prepend scheme needs it).
    virtual void split(std::vector<std::string>& pieces, bool at_text_start) const = 0;
};

// Throws ovllm::Error naming the file and JSON path for unknown types or bad fields.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& node, const JsonPath& at);

}  // namespace ovllm::tokenizer
