// The real `ovllm` binary on a GGUF file: `info` reads its metadata, and `generate
// --prompt-ids` gives the same greedy ids as the HF folder converted from it.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "test_paths.hpp"

namespace ovllm::test {
namespace {

std::string run_stdout(const std::string& args, int& status) {
    const std::string command = ovllm_binary().string() + " " + args + " 2>/dev/null";
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return out;
    std::array<char, 4096> buffer{};
    while (fgets(buffer.data(), buffer.size(), pipe)) out += buffer.data();
    status = pclose(pipe);
    return out;
}

class CliGguf : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!std::filesystem::exists(gguf) || !std::filesystem::exists(folder)) {
            GTEST_SKIP() << gguf << " not present";
        }
    }
    // `ovllm generate ARGS` on the GGUF file and on the folder made from it; both must succeed.
    std::pair<std::string, std::string> generate_both(const std::string& args) const {
        int gguf_status = -1;
        int folder_status = -1;
        std::string from_gguf = run_stdout("generate --model " + gguf.string() + args, gguf_status);
        std::string from_folder =
            run_stdout("generate --model " + folder.string() + args, folder_status);
        EXPECT_EQ(gguf_status, 0) << from_gguf;
        EXPECT_EQ(folder_status, 0) << from_folder;
        return {from_gguf, from_folder};
    }

    const std::filesystem::path gguf = models_dir() / "smollm2-135m.gguf";
    const std::filesystem::path folder = models_dir() / "smollm2-135m";
};

TEST_F(CliGguf, InfoReadsTheGgufMetadata) {
    int status = -1;
    const std::string out = run_stdout("info " + gguf.string(), status);
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("architecture: LlamaForCausalLM"), std::string::npos) << out;
    EXPECT_NE(out.find("layers: 30, heads: 9, kv_heads: 3, head_dim: 64"), std::string::npos)
        << out;
}

TEST_F(CliGguf, GenerateMatchesTheConvertedFolder) {
    // "The capital of France is"
    const std::string args =
        " --prompt-ids 504,3575,282,4649,314 --max-tokens 12 --dtype f32 --kv-cache-dtype f32";
    const auto [from_gguf, from_folder] = generate_both(args);
    ASSERT_FALSE(HasFailure());
    EXPECT_FALSE(from_gguf.empty());
    EXPECT_EQ(from_gguf, from_folder);
}

// Text in and out with the GGUF alone: its own tokenizer gives the same prompt ids and the same
// text as the HF folder's tokenizer.json.
TEST_F(CliGguf, GenerateTextWithTheFileAlone) {
    const std::string args =
        " --prompt 'The capital of France is' --max-tokens 12 --dtype f32 --kv-cache-dtype f32";
    const auto [from_gguf, from_folder] = generate_both(args);
    ASSERT_FALSE(HasFailure());
    EXPECT_GT(from_gguf.size(), 12u);
    EXPECT_EQ(from_gguf, from_folder);
}

// `ovllm chat` renders the GGUF's tokenizer.chat_template and stops at its EOS, <|im_end|>.
TEST_F(CliGguf, ChatWithTheFileAlone) {
    const auto input = std::filesystem::temp_directory_path() / "ovllm_test_gguf_chat.txt";
    std::ofstream(input) << "What is 2+2?\n";
    int status = -1;
    const std::string out = run_stdout(
        "chat --model " + gguf.string() + " --max-tokens 24 --dtype f32 < " + input.string(),
        status);
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("> "), std::string::npos) << out;
    EXPECT_EQ(out.find("<|im_end|>"), std::string::npos) << out;
    EXPECT_GT(out.size(), 8u) << out;
}

// Gemma 3 270M (fetched only on demand: `shared/models/fetch.sh --only gemma3`; skipped when
// absent). The HF folder, the GGUF alone and the GGUF with --tokenizer (which overrides the
// GGUF's own) all continue with the reference text of shared/models/README.md.
TEST(CliGemma3, RealModelContinuesWithTheReferenceText) {
    const auto gguf = models_dir() / "gemma3-270m.gguf";
    const auto folder = models_dir() / "gemma3-270m";
    if (!std::filesystem::exists(gguf) || !std::filesystem::exists(folder / "config.json")) {
        GTEST_SKIP() << folder << " not present";
    }
    const std::string args =
        " --prompt 'The capital of France is' --max-tokens 12 --dtype f32 "
        "--kv-cache-dtype f32";
    for (const std::string& model :
         {folder.string(), gguf.string(), gguf.string() + " --tokenizer " + folder.string()}) {
        int status = -1;
        const std::string out = run_stdout("generate --model " + model + args, status);
        ASSERT_EQ(status, 0) << out;
        EXPECT_NE(out.find(" the capital of the country of France"), std::string::npos)
            << model << ": " << out;
    }
}

}  // namespace
}  // namespace ovllm::test
