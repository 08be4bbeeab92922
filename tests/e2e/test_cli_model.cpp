// The real `ovllm` binary: `info` and `generate --prompt-ids` on a golden model.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "command_runner.hpp"
#include "test_paths.hpp"

namespace ovllm::test {
namespace {

// `kind`: "models" (transformers golden) or "ir" (optimum-cli exports with their own golden).
nlohmann::json golden_json(const std::string& model, const std::string& kind = "models") {
    std::ifstream in(golden_dir() / kind / model / "golden.json");
    return nlohmann::json::parse(in);
}

std::string join_ids(const nlohmann::json& ids) {
    std::string text;
    for (const auto& id : ids) {
        if (!text.empty()) text += ',';
        text += std::to_string(id.get<int64_t>());
    }
    return text;
}

TEST(CliModel, InfoPrintsShapeAndKvLayout) {
    const auto folder = golden_dir() / "models" / "qwen2";
    const CommandResult run = run_ovllm("info " + folder.string() + " --kv-cache-dtype f32");
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("architecture: Qwen2ForCausalLM"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("layers: 2, heads: 4, kv_heads: 2, head_dim: 16"), std::string::npos)
        << run.out;
    EXPECT_NE(run.out.find("weight dtype: f32"), std::string::npos) << run.out;
    // f32 cache: [kv_heads 2, 32 tokens, head_dim 16] for keys and values, 2 layers:
    // 2 * 2 * (2*32*16*4) = 16384 bytes per block.
    EXPECT_NE(run.out.find("layers 0-1: key f32 [2, 32, 16], value f32 [2, 32, 16]"),
              std::string::npos)
        << run.out;
    EXPECT_NE(run.out.find("16384 bytes per block"), std::string::npos) << run.out;
}

// Every subcommand takes the model positionally or as --model; both forms agree.
TEST(CliModel, ModelPositionallyOrAsFlag) {
    const std::string folder = (golden_dir() / "models" / "qwen2").string();
    const CommandResult positional = run_ovllm("info " + folder + " --kv-cache-dtype f32");
    const CommandResult flag = run_ovllm("info --model " + folder + " --kv-cache-dtype f32");
    ASSERT_EQ(flag.status, 0) << flag.out;
    EXPECT_EQ(flag.out, positional.out);
    const std::string generate =
        " --prompt-ids 1,2,3 --max-tokens 4 --dtype f32 --kv-cache-dtype f32";
    const CommandResult by_flag = run_ovllm("generate --model " + folder + generate);
    const CommandResult by_position = run_ovllm("generate " + folder + generate);
    ASSERT_EQ(by_position.status, 0) << by_position.out;
    EXPECT_EQ(by_position.out, by_flag.out);
    EXPECT_NE(run_ovllm("info " + folder + " --model /elsewhere").status, 0);
    EXPECT_NE(run_ovllm("info").status, 0);
}

// --dtype f32 alone is the exact mode: f32 inference over an f32 KV cache (vLLM's
// kv_cache_dtype auto follows the dtype), so every prompt of every golden model reproduces
// transformers' greedy ids. One run per model, its four prompts batched from a JSONL file.
// `ovllm generate --dtype f32` of every tiny golden model's prompts plus `flags`: each
// completion must be transformers' greedy. Returns the runs' logs.
std::string expect_every_golden_greedy(const std::string& flags) {
    const auto prompt_file = std::filesystem::temp_directory_path() / "ovllm_e2e_f32_prompts.jsonl";
    std::string logs;
    for (const std::string model : {"llama", "llama-bf16", "llama-rope3", "qwen2", "qwen3", "opt",
                                    "gpt2", "mistral", "gemma3"}) {
        const nlohmann::json golden = golden_json(model);
        {
            std::ofstream out(prompt_file);
            for (const auto& prompt : golden.at("prompts"))
                out << nlohmann::json{{"prompt_token_ids", prompt.at("ids")}}.dump() << '\n';
        }
        const CommandResult run = run_ovllm(
            "",
            "generate --model " + (golden_dir() / "models" / model).string() + " --prompt-file " +
                prompt_file.string() + " --max-tokens 24 --ignore-eos --dtype f32 " + flags,
            /*with_stderr=*/true);
        logs += run.out;
        EXPECT_EQ(run.status, 0) << run.out;
        EXPECT_NE(
            run.out.find("KV cache precision f32 (--kv-cache-dtype auto follows --dtype f32)"),
            std::string::npos)
            << run.out;
        // The log goes to the same stream; completions are the lines that are JSON arrays.
        std::vector<nlohmann::json> completions;
        std::istringstream lines(run.out);
        for (std::string line; std::getline(lines, line);)
            if (!line.empty() && line.front() == '[')
                completions.push_back(nlohmann::json::parse(line));
        EXPECT_EQ(completions.size(), golden.at("prompts").size()) << run.out;
        for (size_t i = 0; i < completions.size() && i < golden.at("prompts").size(); ++i) {
            EXPECT_EQ(completions[i], golden.at("prompts").at(i).at("greedy"))
                << model << " " << golden.at("prompts").at(i).at("name") << " " << flags;
        }
    }
    std::filesystem::remove(prompt_file);
    return logs;
}

TEST(CliModel, GenerateWithDtypeF32MatchesEveryGoldenGreedy) {
    expect_every_golden_greedy("");
}

// Prompt-lookup drafts change how many tokens a step computes, never which: still
// transformers' greedy, with drafts accepted on the way (the tiny models repeat themselves).
TEST(CliModel, GenerateWithNgramDraftsMatchesEveryGoldenGreedy) {
    const std::string logs = expect_every_golden_greedy(
        R"(--speculative-config '{"method": "ngram", "num_speculative_tokens": 3, )"
        R"("prompt_lookup_max": 3, "prompt_lookup_min": 1}')");
    EXPECT_NE(logs.find("speculative_config=SpeculativeConfig(method='ngram', num_spec_tokens=3"),
              std::string::npos);
    size_t accepted = 0;
    for (size_t at = logs.find("SpecDecoding metrics"); at != std::string::npos;
         at = logs.find("SpecDecoding metrics", at + 1)) {
        const size_t field = logs.find("Accepted: ", at);
        accepted += std::stoul(logs.substr(field + 10));
    }
    EXPECT_GT(accepted, 0u) << logs;
}

// Stateful IR folders exported by optimum-cli (f32 and int8 weights) go through the same
// paged conversion; their golden ids come from OpenVINO in f32 without dynamic quantization.
TEST(CliModel, GenerateFromExportedIrMatchesItsGolden) {
    for (const std::string ir : {"llama-fp32", "llama-int8"}) {
        const nlohmann::json golden = golden_json(ir, "ir");
        for (const auto& prompt : golden.at("prompts")) {
            const CommandResult run = run_ovllm(
                "generate --model " + (golden_dir() / "ir" / ir).string() + " --prompt-ids " +
                join_ids(prompt.at("ids")) + " --max-tokens 24 --dtype f32 --kv-cache-dtype f32");
            ASSERT_EQ(run.status, 0) << run.out;
            EXPECT_EQ(nlohmann::json::parse(run.out), prompt.at("greedy"))
                << ir << " " << prompt.at("name");
        }
    }
}

TEST(CliModel, GenerateWithDummyWeightsNeedsNoFiles) {
    const CommandResult run = run_ovllm(
        "generate --model facebook/opt-125m --load-format dummy --prompt-ids 1,2,3 --max-tokens 3");
    ASSERT_EQ(run.status, 0) << run.out;
    const auto ids = nlohmann::json::parse(run.out);
    ASSERT_EQ(ids.size(), 3u);
    for (const auto& id : ids) EXPECT_LT(id.get<int64_t>(), 50272);  // opt-125m's vocabulary
}

// A temporary folder, removed with the test.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& name)
        : path(std::filesystem::temp_directory_path() / ("ovllm_e2e_" + name)) {
        std::filesystem::remove_all(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// `ovllm convert` writes a stateful IR folder that `ovllm generate` then reads as is: with
// weights left as stored, it gives the golden greedy ids of the source folder.
TEST(CliModel, ConvertedIrFolderGivesTheGoldenGreedy) {
    const TempDir out("convert_qwen2");
    const auto source = golden_dir() / "models" / "qwen2";
    const CommandResult convert = run_ovllm("convert " + source.string() + " --output " +
                                            out.path.string() + " --weight-format none");
    ASSERT_EQ(convert.status, 0) << convert.out;
    for (const char* file : {"openvino_model.xml", "openvino_model.bin", "config.json",
                             "generation_config.json", "openvino_config.json"}) {
        EXPECT_TRUE(std::filesystem::exists(out.path / file)) << file;
    }
    const nlohmann::json golden = golden_json("qwen2");
    const auto& prompt = golden.at("prompts").at(1);
    const CommandResult run =
        run_ovllm("generate --model " + out.path.string() + " --prompt-ids " +
                  join_ids(prompt.at("ids")) + " --max-tokens 24 --dtype f32 --kv-cache-dtype f32");
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_EQ(nlohmann::json::parse(run.out), prompt.at("greedy"));
    // A second convert into the same folder is refused rather than overwriting it.
    EXPECT_NE(run_ovllm("convert " + source.string() + " --output " + out.path.string()).status, 0);
}

// A built-in config with random weights converts too (the IR the peer benchmark feeds to
// other engines); the folder records the int4 compression and carries the config.
TEST(CliModel, ConvertDummyBuiltinToInt4) {
    const TempDir out("convert_opt_dummy");
    const CommandResult convert =
        run_ovllm("convert facebook/opt-125m --load-format dummy --weight-format int4 --output " +
                  out.path.string());
    ASSERT_EQ(convert.status, 0) << convert.out;
    std::ifstream record_file(out.path / "openvino_config.json");
    const auto record = nlohmann::json::parse(record_file);
    EXPECT_EQ(record.at("weight_format"), "int4");
    EXPECT_EQ(record.at("quantization_config").at("group_size"), 128);
    std::ifstream config_file(out.path / "config.json");
    EXPECT_EQ(nlohmann::json::parse(config_file).at("model_type"), "opt");
    const CommandResult run =
        run_ovllm("generate --model " + out.path.string() + " --prompt-ids 1,2,3 --max-tokens 3");
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_EQ(nlohmann::json::parse(run.out).size(), 3u);
    // Without --load-format dummy a built-in name is not a folder to convert.
    EXPECT_NE(
        run_ovllm("convert facebook/opt-125m --output " + (out.path / "again").string()).status, 0);
}

TEST(CliModel, GenerateRejectsBadIds) {
    const auto folder = golden_dir() / "models" / "llama";
    EXPECT_NE(run_ovllm("generate --model " + folder.string() + " --prompt-ids 1,x").status, 0);
    EXPECT_NE(run_ovllm("generate --model " + folder.string() + " --prompt-ids 512").status, 0);
}

}  // namespace
}  // namespace ovllm::test
