#pragma once
// Normalizers of tokenizer.json ("normalizer"): rewrite each stretch of text between added
// tokens before pre-tokenization. Supported types: NFC, NFD, NFKC, NFKD, Lowercase, Replace,
// Prepend, Strip, Sequence.
#include <memory>
#include <string>

#include "tokenizer/json_util.hpp"

namespace ovllm::tokenizer {

class Normalizer {
  public:
    virtual ~Normalizer() = default;
    virtual void normalize(std::string& text) const = 0;
};

// Throws ovllm::Error naming the file and JSON path for unknown types or bad fields.
std::unique_ptr<Normalizer> make_normalizer(const Json& node, const JsonPath& at);

}  // namespace ovllm::tokenizer
