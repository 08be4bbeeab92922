// Every sequence of golden/tokenizers/<name>/stream.jsonl through IncrementalDetokenizer:
// deltas (with and without special tokens) equal, one per id.
#include <gtest/gtest.h>

#include "golden_cases.hpp"
#include "tokenizer/detokenizer.hpp"

namespace ovllm::tokenizer::test {
namespace {

class GoldenStream : public ::testing::TestWithParam<std::string> {};

size_t check_deltas(const Tokenizer& tok, const nlohmann::json& row, bool skip, const char* key,
                    const std::string& label) {
    const auto ids = row["ids"].get<std::vector<int64_t>>();
    const auto want = row[key].get<std::vector<std::string>>();
    IncrementalDetokenizer detok(tok, skip);
    size_t mismatches = 0;
    size_t max_window = 0;
    for (size_t k = 0; k < ids.size(); ++k) {
        const std::string delta = detok.step(ids[k]);
        max_window = std::max(max_window, detok.window_size());
        if (k < want.size() && delta != want[k]) {
            if (++mismatches <= 3) {
                ADD_FAILURE() << label << " " << key << " step " << k << ": got "
                              << nlohmann::json(delta).dump() << " want "
                              << nlohmann::json(want[k]).dump();
            }
        }
    }
    EXPECT_EQ(want.size(), ids.size()) << label;
    return mismatches;
}

TEST_P(GoldenStream, DeltasMatch) {
    const std::string name = GetParam();
    const Tokenizer& tok = golden_tokenizer(name);
    const auto rows = read_jsonl(golden_tokenizer_dir(name) / "stream.jsonl");
    ASSERT_EQ(rows.size(), 200u);
    size_t mismatches = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        const std::string label =
            name + " row " + std::to_string(i) + " (" + rows[i]["source"].get<std::string>() + ")";
        mismatches += check_deltas(tok, rows[i], false, "deltas", label);
        mismatches += check_deltas(tok, rows[i], true, "deltas_skip_special", label);
        const auto ids = rows[i]["ids"].get<std::vector<int64_t>>();
        EXPECT_EQ(tok.decode(ids, false), rows[i]["text"].get<std::string>()) << label;
        EXPECT_EQ(tok.decode(ids, true), rows[i]["text_skip_special"].get<std::string>()) << label;
    }
    EXPECT_EQ(mismatches, 0u);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GoldenStream, ::testing::ValuesIn(golden_names()),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (char& c : n) c = (c == '.') ? '_' : c;
                             return n;
                         });

}  // namespace
}  // namespace ovllm::tokenizer::test
