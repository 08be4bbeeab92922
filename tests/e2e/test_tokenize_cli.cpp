// `ovllm tokenize` / `ovllm detokenize` run as a program, compared with the golden cases.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_paths.hpp"

namespace {

std::string run(const std::string& command) {
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return out;
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
    pclose(pipe);
    return out;
}

std::vector<nlohmann::json> golden_cases(const std::string& name, size_t stride) {
    std::ifstream in(ovllm::test::golden_dir() / "tokenizers" / name / "cases.jsonl");
    std::vector<nlohmann::json> rows;
    std::string line;
    for (size_t i = 0; std::getline(in, line); ++i) {
        if (i % stride == 0) rows.push_back(nlohmann::json::parse(line));
    }
    return rows;
}

class TokenizeCli : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizeCli, JsonlMatchesGolden) {
    const std::string name = GetParam();
    const auto dir = ovllm::test::golden_dir() / "tokenizers" / name;
    const auto cases = golden_cases(name, 25);
    ASSERT_GT(cases.size(), 40u);
    const auto input = std::filesystem::temp_directory_path() /
                       ("ovllm_cli_" + std::to_string(::getpid()) + ".jsonl");
    {
        std::ofstream out(input);
        for (const auto& c : cases) out << nlohmann::json{{"text", c["text"]}}.dump() << "\n";
    }
    for (const bool special : {false, true}) {
        const std::string output =
            run(ovllm::test::ovllm_binary().string() + " tokenize --model '" + dir.string() +
                "' --jsonl '" + input.string() + "'" + (special ? " --add-special-tokens" : ""));
        std::istringstream lines(output);
        std::string line;
        size_t i = 0;
        for (; std::getline(lines, line) && i < cases.size(); ++i) {
            EXPECT_EQ(nlohmann::json::parse(line), cases[i][special ? "ids_with_special" : "ids"])
                << name << " case " << i;
        }
        EXPECT_EQ(i, cases.size()) << name;
    }
    std::filesystem::remove(input);
}

TEST_P(TokenizeCli, TextArgumentAndDetokenize) {
    const std::string name = GetParam();
    const auto dir = ovllm::test::golden_dir() / "tokenizers" / name;
    const std::string binary = ovllm::test::ovllm_binary().string();
    for (const auto& c : golden_cases(name, 400)) {
        const auto ids = c["ids_with_special"].get<std::vector<int64_t>>();
        if (ids.empty()) continue;
        std::string list;
        for (const int64_t id : ids) {
            if (!list.empty()) list.push_back(',');
            list += std::to_string(id);
        }
        EXPECT_EQ(run(binary + " detokenize --model '" + dir.string() + "' " + list),
                  c["decoded_with_special"].get<std::string>() + "\n");
        EXPECT_EQ(run(binary + " detokenize --skip-special-tokens --model '" + dir.string() + "' " +
                      list),
                  c["decoded_with_special_skip"].get<std::string>() + "\n");
    }
    EXPECT_EQ(run(binary + " tokenize --model '" + dir.string() + "' 'Hello world'"),
              run(binary + " tokenize --model '" + dir.string() +
                  "' --jsonl /dev/stdin <<'EOF'\n{\"text\": \"Hello world\"}\nEOF\n"));
}

TEST(TokenizeCliErrors, BadIdsAndMissingFolder) {
    const std::string binary = ovllm::test::ovllm_binary().string();
    const auto dir = ovllm::test::golden_dir() / "tokenizers" / "smollm2";
    EXPECT_NE(std::system(
                  (binary + " detokenize --model '" + dir.string() + "' 1,x 2>/dev/null").c_str()),
              0);
    EXPECT_NE(std::system((binary + " tokenize --model /nonexistent hi 2>/dev/null").c_str()), 0);
}

// The model may be given positionally or as --model, as for every subcommand.
TEST(TokenizeCliModelArgument, PositionalAndFlagAgree) {
    const std::string binary = ovllm::test::ovllm_binary().string();
    const std::string dir = (ovllm::test::golden_dir() / "tokenizers" / "smollm2").string();
    const std::string by_flag = run(binary + " tokenize --model '" + dir + "' 'Hello world'");
    ASSERT_FALSE(by_flag.empty());
    EXPECT_EQ(run(binary + " tokenize '" + dir + "' 'Hello world'"), by_flag);
    const std::string ids = nlohmann::json::parse(by_flag).dump();
    std::string list = ids.substr(1, ids.size() - 2);
    EXPECT_EQ(run(binary + " detokenize '" + dir + "' " + list),
              run(binary + " detokenize --model '" + dir + "' " + list));
    EXPECT_NE(
        std::system((binary + " tokenize '" + dir + "' --model /elsewhere hi 2>/dev/null").c_str()),
        0);
}

TEST(TokenizeCliErrors, UnknownIdIsAnErrorNamingIt) {
    const std::string binary = ovllm::test::ovllm_binary().string();
    const std::string dir = (ovllm::test::golden_dir() / "tokenizers" / "smollm2").string();
    const std::string command = binary + " detokenize --model '" + dir + "' 1,99999999";
    EXPECT_NE(std::system((command + " >/dev/null 2>&1").c_str()), 0);
    EXPECT_NE(run(command + " 2>&1").find("99999999"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, TokenizeCli, ::testing::Values("smollm2", "qwen2.5", "gemma3"),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (char& c : n) c = (c == '.') ? '_' : c;
                             return n;
                         });

}  // namespace
