#pragma once
// Decoders of tokenizer.json ("decoder"): turn the token strings of a sequence of ids back into
// text. Supported types: ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_util.hpp"

namespace ovllm::tokenizer {

class Decoder {
  public:
    virtual ~Decoder() = default;
    // Rewrites the list of token strings; the text is their concatenation at the end.
    virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
    // True for a lone ByteLevel decoder, which Tokenizer::decode runs on bytes directly.
    virtual bool is_byte_level() const { return false; }
};

std::unique_ptr<Decoder> make_decoder(const Json& node, const JsonPath& at);

// Bytes spelled by a token "<0xNN>", or -1.
int byte_fallback_value(std::string_view token);

}  // namespace ovllm::tokenizer
