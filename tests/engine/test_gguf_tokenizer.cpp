// The tokenizer and chat template read from a GGUF's metadata against the Hugging Face tokenizer
// of the same model: every case of golden/tokenizers/<name>/cases.jsonl encodes to the same ids
// and decodes to the same text. The GGUFs live in .models; CI fetches smollm2 and qwen05 only,
// so the others skip when absent.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "engine/model_files.hpp"
#include "tokenizer/golden_cases.hpp"

namespace ovllm::test {
namespace {

struct Pair {
    const char* golden;  // golden/tokenizers/<golden>
    const char* gguf;    // .models/<gguf>
};

class GgufTokenizer : public ::testing::TestWithParam<Pair> {};

TEST_P(GgufTokenizer, IdsAndTextsEqualTheHfTokenizer) {
    const Pair p = GetParam();
    const auto gguf = models_dir() / p.gguf;
    if (!std::filesystem::exists(gguf)) {
        GTEST_SKIP() << gguf << " not present (shared/models/fetch.sh fetches it)";
    }
    const auto tok = engine::load_tokenizer(gguf.string());
    ASSERT_NE(tok, nullptr);
    const auto cases = tokenizer::test::read_jsonl(tokenizer::test::golden_tokenizer_dir(p.golden) /
                                                   "cases.jsonl");
    ASSERT_EQ(cases.size(), 1254u);
    size_t mismatches = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        const std::string text = c["text"].get<std::string>();
        const auto ids = c["ids"].get<std::vector<int64_t>>();
        const bool ok =
            tok->encode(text, false) == ids &&
            tok->encode(text, true) == c["ids_with_special"].get<std::vector<int64_t>>() &&
            tok->decode(ids, false) == c["decoded"].get<std::string>();
        if (!ok && ++mismatches <= 10) {
            ADD_FAILURE() << p.gguf << " case " << i << " (" << c["category"]
                          << "): " << nlohmann::json(text).dump() << " got "
                          << nlohmann::json(tok->encode(text, false)).dump() << " want "
                          << nlohmann::json(ids).dump();
        }
    }
    EXPECT_EQ(mismatches, 0u);
}

INSTANTIATE_TEST_SUITE_P(Models, GgufTokenizer,
                         ::testing::Values(Pair{"smollm2", "smollm2-135m.gguf"},
                                           Pair{"qwen2.5", "qwen2.5-coder-0.5b.gguf"},
                                           Pair{"qwen2.5", "qwen2.5-coder-1.5b.gguf"},
                                           Pair{"gemma3", "gemma3-270m.gguf"}),
                         [](const auto& info) {
                             std::string n = info.param.gguf;
                             for (char& ch : n) ch = std::isalnum(ch) ? ch : '_';
                             return n;
                         });

// The chat template and its special tokens come from the GGUF too, and render as the HF
// folder's template does.
TEST(GgufChatTemplate, RendersAsTheHfFolder) {
    const auto gguf = models_dir() / "smollm2-135m.gguf";
    const auto folder = models_dir() / "smollm2-135m";
    if (!std::filesystem::exists(gguf) || !std::filesystem::exists(folder / "tokenizer.json")) {
        GTEST_SKIP() << gguf << " not present";
    }
    const ChatTemplate from_gguf = engine::load_chat_template(gguf.string());
    const ChatTemplate from_folder = engine::load_chat_template(folder.string());
    ASSERT_TRUE(from_gguf.has_template());
    const nlohmann::ordered_json messages = {{{"role", "user"}, {"content", "Hi there"}}};
    ChatRenderOptions options;
    options.add_generation_prompt = true;
    EXPECT_EQ(from_gguf.render(messages, options), from_folder.render(messages, options));
    const auto tok = engine::load_tokenizer(gguf.string());
    ASSERT_TRUE(tok->eos_token_id());
    EXPECT_EQ(*tok->eos_token_id(), 2);  // <|im_end|>, which ends a chat turn
}

}  // namespace
}  // namespace ovllm::test
