// Every case of golden/tokenizers/<name>/cases.jsonl: encode with and without special tokens,
// decode with and without skipping them, compared with Hugging Face `tokenizers`.
#include <gtest/gtest.h>

#include "golden_cases.hpp"

namespace ovllm::tokenizer::test {
namespace {

class GoldenCases : public ::testing::TestWithParam<std::string> {};

std::string show(const std::string& s) {
    return nlohmann::json(s).dump();
}

TEST_P(GoldenCases, AllFieldsMatch) {
    const std::string name = GetParam();
    const Tokenizer& tok = golden_tokenizer(name);
    const auto cases = read_jsonl(golden_tokenizer_dir(name) / "cases.jsonl");
    ASSERT_EQ(cases.size(), 1254u);
    size_t mismatches = 0;
    const auto report = [&](size_t index, const char* field, const std::string& detail) {
        if (++mismatches <= 15)
            ADD_FAILURE() << name << " case " << index << " " << field << ": " << detail;
    };
    for (size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        const std::string text = c["text"].get<std::string>();
        const auto ids = c["ids"].get<std::vector<int64_t>>();
        const auto ids_special = c["ids_with_special"].get<std::vector<int64_t>>();
        const auto got = tok.encode(text, false);
        if (got != ids) {
            report(i, "ids",
                   show(text) + " got " + nlohmann::json(got).dump() + " want " +
                       nlohmann::json(ids).dump());
        }
        const auto got_special = tok.encode(text, true);
        if (got_special != ids_special) report(i, "ids_with_special", show(text));
        const std::string decoded = tok.decode(ids, false);
        if (decoded != c["decoded"].get<std::string>()) {
            report(i, "decoded", show(decoded) + " want " + show(c["decoded"].get<std::string>()));
        }
        if (tok.decode(ids_special, false) != c["decoded_with_special"].get<std::string>()) {
            report(i, "decoded_with_special", show(text));
        }
        const std::string skipped = tok.decode(ids_special, true);
        if (skipped != c["decoded_with_special_skip"].get<std::string>()) {
            report(
                i, "decoded_with_special_skip",
                show(skipped) + " want " + show(c["decoded_with_special_skip"].get<std::string>()));
        }
    }
    EXPECT_EQ(mismatches, 0u) << name;
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GoldenCases, ::testing::ValuesIn(golden_names()),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (char& c : n) c = (c == '.') ? '_' : c;
                             return n;
                         });

}  // namespace
}  // namespace ovllm::tokenizer::test
