// Prompt-lookup speculative decoding on a real model: Qwen2.5-Coder-0.5B asked to edit code it
// is given, in the exact mode (--dtype f32), gives the same greedy tokens with and without
// drafts, and accepts many of them (the answer copies most of the prompt).
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "command_runner.hpp"
#include "test_paths.hpp"

namespace ovllm::test {
namespace {

constexpr const char* kEditPrompt =
    R"(Rename the function `compute_total` to `sum_prices` everywhere in this code and return the whole code.

```python
def compute_total(items):
    total = 0
    for item in items:
        total += item.price * item.quantity
    return total


def report(orders):
    for order in orders:
        print(order.id, compute_total(order.items))
```
)";

nlohmann::json generate(const std::filesystem::path& model, const std::string& flags,
                        std::string& log) {
    const auto dir = std::filesystem::temp_directory_path();
    const auto prompt_file = dir / "ovllm_e2e_spec_prompt.jsonl";
    const auto out_file = dir / "ovllm_e2e_spec_out.jsonl";
    std::ofstream(prompt_file) << nlohmann::json{{"prompt", kEditPrompt}}.dump() << '\n';
    const CommandResult run =
        run_ovllm("",
                  "generate --model " + model.string() + " --prompt-file " + prompt_file.string() +
                      " --max-tokens 64 --ignore-eos --dtype f32 " + "--output-json " +
                      out_file.string() + " " + flags,
                  /*with_stderr=*/true);
    log = run.out;
    EXPECT_EQ(run.status, 0) << run.out;
    std::ifstream in(out_file);
    std::string line;
    std::getline(in, line);
    std::filesystem::remove(prompt_file);
    std::filesystem::remove(out_file);
    return line.empty() ? nlohmann::json() : nlohmann::json::parse(line);
}

TEST(CliSpeculative, NgramDraftsKeepQwenGreedyOutput) {
    const auto model = models_dir() / "qwen2.5-coder-0.5b";
    if (!std::filesystem::exists(model)) GTEST_SKIP() << model << " not present";
    std::string plain_log;
    std::string drafted_log;
    const nlohmann::json plain = generate(model, "", plain_log);
    const nlohmann::json drafted = generate(
        model,
        R"(--speculative-config '{"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 3, "prompt_lookup_min": 2}')",
        drafted_log);
    ASSERT_FALSE(plain.is_null()) << plain_log;
    ASSERT_FALSE(drafted.is_null()) << drafted_log;
    const auto& ids = plain.at("completions").at(0).at("token_ids");
    EXPECT_EQ(ids.size(), 64u);
    EXPECT_EQ(drafted.at("completions").at(0).at("token_ids"), ids);
    EXPECT_EQ(plain_log.find("SpecDecoding metrics"), std::string::npos);
    const size_t at = drafted_log.find("SpecDecoding metrics");
    ASSERT_NE(at, std::string::npos) << drafted_log;
    const size_t accepted = std::stoul(drafted_log.substr(drafted_log.find("Accepted: ", at) + 10));
    // The answer repeats the prompt's code: most of its 64 tokens come from accepted drafts.
    EXPECT_GT(accepted, 32u) << drafted_log.substr(at);
}

}  // namespace
}  // namespace ovllm::test
