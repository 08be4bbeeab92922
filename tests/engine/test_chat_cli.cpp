// `ovllm chat` on SmolLM2 (f32, greedy): each reply equals LLM::chat over the same history.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "command_runner.hpp"
#include "engine_fixture.hpp"

namespace ovllm::test {
namespace {

TEST(ChatCli, RepliesMatchTheOfflineApiAndKeepHistory) {
    const std::filesystem::path input =
        std::filesystem::temp_directory_path() / "ovllm_chat_input.txt";
    std::ofstream(input) << "What is the capital of France?\nAnd of Italy?\n/exit\n";
    const CommandResult run =
        run_ovllm("chat --model " + smollm2_dir() +
                  " --dtype f32 --kv-cache-dtype f32 --kv-cache-space 0.25 --max-model-len 1024"
                  " --max-tokens 12 --temperature 0 < " +
                  input.string());
    ASSERT_EQ(run.status, 0) << run.out;

    LLM llm(exact_config());
    SamplingParams params;
    params.temperature = 0.0f;
    params.max_tokens = 12;
    std::vector<ChatMessage> history = {{"user", "What is the capital of France?"}};
    const std::string first = llm.chat({history}, params)[0].outputs[0].text;
    history.push_back({"assistant", first});
    history.push_back({"user", "And of Italy?"});
    const std::string second = llm.chat({history}, params)[0].outputs[0].text;

    ASSERT_FALSE(first.empty());
    EXPECT_EQ(run.out, "> " + first + "\n> " + second + "\n> \n");
}

}  // namespace
}  // namespace ovllm::test
