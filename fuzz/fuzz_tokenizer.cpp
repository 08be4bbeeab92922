// libFuzzer target: random bytes to Tokenizer::encode, random ids to decode and to the
// IncrementalDetokenizer, for the three golden tokenizers. Invalid UTF-8 must give
// ovllm::Error; everything else must not throw, and all text out must be valid UTF-8.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/detokenizer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"
#include "util/utf8.hpp"

namespace {

using ovllm::tokenizer::Tokenizer;

const std::vector<std::unique_ptr<Tokenizer>>& tokenizers() {
    static const auto loaded = [] {
        const char* env = std::getenv("OVLLM_SHARED_DIR");
        const std::filesystem::path shared = env ? env : OVLLM_SHARED_DIR;
        std::vector<std::unique_ptr<Tokenizer>> out;
        for (const char* name : {"smollm2", "qwen2.5", "gemma3"}) {
            out.push_back(std::make_unique<Tokenizer>(
                Tokenizer::from_folder(shared / "golden" / "tokenizers" / name)));
        }
        return out;
    }();
    return loaded;
}

void require_utf8(const std::string& text) {
    if (ovllm::utf8::first_invalid(text) != std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const Tokenizer& tok = *tokenizers()[data[0] % 3];
    const bool special = (data[0] & 4) != 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    const bool valid = ovllm::utf8::first_invalid(text) == std::string_view::npos;
    try {
        const auto ids = tok.encode(text, special);
        if (!valid) std::abort();  // invalid input must be rejected
        require_utf8(tok.decode(ids, !special));
    } catch (const ovllm::Error&) {
        if (valid) std::abort();
    }

    // The same bytes as ids: 3 bytes each, spanning the vocabulary and a little beyond it.
    std::vector<int64_t> ids;
    for (size_t i = 1; i + 3 <= size; i += 3) {
        const uint32_t raw = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16);
        ids.push_back(static_cast<int64_t>(raw % (tok.vocab_size() + 16)) -
                      (raw & 0x800000 ? 8 : 0));
    }
    require_utf8(tok.decode(ids, special));
    ovllm::tokenizer::IncrementalDetokenizer detok(tok, special);
    for (const int64_t id : ids) require_utf8(detok.step(id));
    return 0;
}
