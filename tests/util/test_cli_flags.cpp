#include <gtest/gtest.h>

#include "util/cli_flags.hpp"
#include "util/error.hpp"
#include "util/speculative_config.hpp"

namespace ovllm::config {
namespace {

struct Parsed {
    EngineConfig config;
    FlagTracker tracker;
};

// Parses `args` (without the program name) into a fresh config.
void parse(Parsed& parsed, std::vector<std::string> args) {
    CLI::App app;
    add_engine_flags(app, parsed.config, parsed.tracker);
    args.insert(args.begin(), "ovllm");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
    // `app` dies here: only the config and the plain tracker fields may be read after.
}

std::vector<ConfigNote> parse_and_resolve(Parsed& parsed, std::vector<std::string> args,
                                          std::map<std::string, std::string> env = {}) {
    CLI::App app;
    add_engine_flags(app, parsed.config, parsed.tracker);
    args.insert(args.begin(), "ovllm");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
    return resolve_engine_config(parsed.config, parsed.tracker,
                                 environment_from_map(std::move(env)));
}

std::string parse_error(std::vector<std::string> args) {
    Parsed parsed;
    try {
        parse(parsed, std::move(args));
    } catch (const CLI::ParseError& e) {
        return e.what();
    }
    return "no error";
}

std::string resolve_error(std::vector<std::string> args,
                          std::map<std::string, std::string> env = {}) {
    Parsed parsed;
    try {
        parse_and_resolve(parsed, std::move(args), std::move(env));
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(CliFlags, FlagNamesInBothSpellings) {
    EXPECT_EQ(flag_names("max-model-len"), "--max-model-len,--max_model_len");
    EXPECT_EQ(flag_names("seed"), "--seed");
    EXPECT_EQ(flag_names("quantization", "-q"), "--quantization,-q");
}

TEST(CliFlags, DashUnderscoreAndEqualsSpellings) {
    Parsed parsed;
    parse(parsed, {"--model", "m", "--max-model-len", "512", "--max_num_seqs=4",
                   "--max-num-batched-tokens=1024", "--kv_cache_dtype", "F16", "--seed=7"});
    EXPECT_EQ(parsed.config.model, "m");
    EXPECT_EQ(parsed.config.max_model_len, 512);
    EXPECT_EQ(parsed.config.max_num_seqs, 4);
    EXPECT_EQ(parsed.config.max_num_batched_tokens, 1024);
    EXPECT_EQ(parsed.config.kv_cache_dtype, "f16");
    EXPECT_EQ(parsed.config.seed, 7u);
}

TEST(CliFlags, BooleanSwitches) {
    Parsed on;
    parse(on, {"--enable-prefix-caching", "--no-enable-chunked-prefill"});
    EXPECT_TRUE(on.config.enable_prefix_caching);
    EXPECT_FALSE(on.config.enable_chunked_prefill);
    Parsed values;
    parse(values, {"--enable_prefix_caching=true", "--enable-chunked-prefill=false"});
    EXPECT_TRUE(values.config.enable_prefix_caching);
    EXPECT_FALSE(values.config.enable_chunked_prefill);
    Parsed underscored;
    parse(underscored, {"--no_enable_chunked_prefill", "--trust-remote-code"});
    EXPECT_FALSE(underscored.config.enable_chunked_prefill);
    EXPECT_TRUE(underscored.tracker.trust_remote_code);
}

TEST(CliFlags, DtypeAndDeviceAliases) {
    Parsed parsed;
    parse(parsed, {"--dtype", "bfloat16", "--device", "cpu", "-q", "int4"});
    EXPECT_EQ(parsed.config.dtype, "bf16");
    EXPECT_EQ(parsed.config.device, "CPU");
    EXPECT_EQ(parsed.config.weight_format, "int4");
    Parsed half;
    parse(half, {"--dtype=half", "--quantization", "int8"});
    EXPECT_EQ(half.config.dtype, "f16");
    EXPECT_EQ(half.config.weight_format, "int8");
}

TEST(CliFlags, RejectsUnknownChoicesWithTheList) {
    EXPECT_EQ(parse_error({"--kv-cache-dtype", "fp8"}),
              "--kv-cache-dtype: 'fp8' is not one of: auto, u8, i8, f16, bf16, f32");
    EXPECT_EQ(parse_error({"--load-format", "safetensors"}),
              "--load-format: 'safetensors' is not one of: auto, dummy");
    EXPECT_EQ(parse_error({"--device", "cuda"}),
              "--device: device 'cuda' is not supported (accepted: auto, cpu, openvino, CPU)");
}

TEST(CliFlags, TrackerKnowsWhatTheCommandLineSet) {
    Parsed parsed;
    CLI::App app;
    add_engine_flags(app, parsed.config, parsed.tracker);
    const char* argv[] = {"ovllm", "--kv-cache-space", "2", "--model", "m"};
    app.parse(5, argv);
    EXPECT_TRUE(parsed.tracker.was_set("kv_cache_space_gb"));
    EXPECT_TRUE(parsed.tracker.was_set("model"));
    EXPECT_FALSE(parsed.tracker.was_set("kv_cache_dtype"));
    EXPECT_EQ(parsed.tracker.set_fields(), (std::set<std::string>{"kv_cache_space_gb", "model"}));
}

TEST(CliFlags, ResolveAppliesEnvironmentWithCommandLinePrecedence) {
    Parsed parsed;
    const auto notes = parse_and_resolve(
        parsed, {"--model", "m", "--kv-cache-space", "2"},
        {{"VLLM_OPENVINO_KVCACHE_SPACE", "9"}, {"VLLM_OPENVINO_KV_CACHE_PRECISION", "f16"}});
    EXPECT_EQ(parsed.config.kv_cache_space_gb, 2.0);
    EXPECT_EQ(parsed.config.kv_cache_dtype, "f16");
    EXPECT_EQ(parsed.config.tokenizer, "m");
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_EQ(notes[1].text,
              "KV cache type is overridden to f16 via VLLM_OPENVINO_KV_CACHE_PRECISION env var.");
}

TEST(CliFlags, BlockSizeIsForcedTo32LikeVllm) {
    Parsed parsed;
    const auto notes =
        parse_and_resolve(parsed, {"--model", "m", "--block-size", "16", "--kv-cache-space=1"});
    EXPECT_EQ(parsed.config.block_size, 32);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].level, NoteLevel::warning);
    EXPECT_EQ(notes[0].text, "OpenVINO optimal block size is 32, overriding currently set 16");
}

TEST(CliFlags, SwapSpaceIsAcceptedAndIgnored) {
    Parsed parsed;
    const auto notes =
        parse_and_resolve(parsed, {"--model", "m", "--swap-space", "8", "--kv-cache-space=1"});
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].text,
              "--swap-space is ignored: the KV cache lives in CPU memory already (size it with "
              "--kv-cache-space).");
}

TEST(CliFlags, F32KvCacheBringsF32Inference) {
    Parsed parsed;
    parse_and_resolve(parsed, {"--model", "m", "--kv-cache-dtype", "f32"});
    EXPECT_EQ(parsed.config.dtype, "f32");
    EXPECT_EQ(resolve_error({"--model", "m", "--kv-cache-dtype", "f32", "--dtype", "bf16"}),
              "--kv-cache-dtype: an f32 KV cache needs --dtype f32 (got --dtype bf16)");
}

TEST(CliFlags, ResolveValidatesLimits) {
    EXPECT_EQ(resolve_error({}), "--model: no model given");
    EXPECT_EQ(resolve_error({"--model", "m", "--max-model-len", "0"}),
              "--max-model-len: must be >= 1 (got 0)");
    EXPECT_EQ(resolve_error({"--model", "m", "--max-num-seqs", "0"}),
              "--max-num-seqs: must be >= 1 (got 0)");
    EXPECT_EQ(resolve_error({"--model", "m", "--num-threads", "-2"}),
              "--num-threads: must be >= 0 (got -2)");
    EXPECT_EQ(resolve_error({"--model", "m", "--max-num-batched-tokens", "8"}),
              "--max-num-batched-tokens (8) must be greater than or equal to --max-num-seqs (256)");
    EXPECT_EQ(resolve_error({"--model", "m", "--max-num-batched-tokens", "512", "--max-model-len",
                             "1024", "--no-enable-chunked-prefill"}),
              "--max-num-batched-tokens (512) is smaller than --max-model-len (1024) with chunked "
              "prefill disabled; increase --max-num-batched-tokens or decrease --max-model-len");
    EXPECT_EQ(resolve_error({"--model", "m"}, {{"VLLM_OPENVINO_DEVICE", "GPU"}}),
              "VLLM_OPENVINO_DEVICE: device 'GPU' is not supported (accepted: CPU)");
    EXPECT_EQ(resolve_error({"--model", "m", "--kv-cache-space", "-1"}),
              "--kv-cache-space: must be >= 0 GB (got -1)");
}

TEST(CliFlags, SpeculativeConfigAsVllmWritesIt) {
    Parsed parsed;
    parse_and_resolve(parsed, {"--model", "m", "--speculative-config",
                               R"({"method": "ngram", "num_speculative_tokens": 4,
                                   "prompt_lookup_max": 3, "prompt_lookup_min": 2})"});
    const SpeculativeConfig& spec = parsed.config.speculative_config;
    EXPECT_TRUE(spec.enabled());
    EXPECT_EQ(spec.method, "ngram");
    EXPECT_EQ(spec.num_speculative_tokens, 4);
    EXPECT_EQ(spec.prompt_lookup_max, 3);
    EXPECT_EQ(spec.prompt_lookup_min, 2);
    EXPECT_EQ(describe(spec),
              "SpeculativeConfig(method='ngram', num_spec_tokens=4, prompt_lookup_max=3, "
              "prompt_lookup_min=2)");

    // vLLM's defaults: prompt_lookup_max 5, and min = max when only one is given.
    const SpeculativeConfig only_min =
        parse_speculative_config(R"({"method": "[ngram]", "num_speculative_tokens": 2,
                                     "prompt_lookup_min": 3})");
    EXPECT_EQ(only_min.method, "ngram");
    EXPECT_EQ(only_min.prompt_lookup_max, 3);
    EXPECT_EQ(parse_speculative_config(R"({"method": "ngram", "num_speculative_tokens": 2})")
                  .prompt_lookup_max,
              5);
    Parsed off;
    parse_and_resolve(off, {"--model", "m"});
    EXPECT_FALSE(off.config.speculative_config.enabled());
    EXPECT_EQ(describe(off.config.speculative_config), "None");
}

TEST(CliFlags, SpeculativeConfigErrorsNameTheKey) {
    const auto error = [](const std::string& json) {
        return resolve_error({"--model", "m", "--speculative-config", json});
    };
    EXPECT_NE(error("{").find("--speculative-config: not valid JSON"), std::string::npos);
    EXPECT_NE(error(R"({"method": "eagle", "num_speculative_tokens": 2})")
                  .find("method \"eagle\" is not supported (supported: \"ngram\")"),
              std::string::npos);
    EXPECT_NE(error(R"({"method": "ngram"})").find("\"num_speculative_tokens\" must be given"),
              std::string::npos);
    EXPECT_NE(error(R"({"method": "ngram", "num_speculative_tokens": 2, "model": "x"})")
                  .find("unknown key \"model\" (known: method, num_speculative_tokens"),
              std::string::npos);
    EXPECT_NE(error(R"({"method": "ngram", "num_speculative_tokens": 2, "prompt_lookup_max": 1,
                        "prompt_lookup_min": 3})")
                  .find("\"prompt_lookup_max\" (1) must be >= \"prompt_lookup_min\" (3)"),
              std::string::npos);
    EXPECT_NE(error(R"({"method": "ngram", "num_speculative_tokens": "4"})")
                  .find("\"num_speculative_tokens\" must be an integer"),
              std::string::npos);
}

}  // namespace
}  // namespace ovllm::config
