#include <gtest/gtest.h>

#include "util/env_config.hpp"
#include "util/error.hpp"

namespace ovllm::config {
namespace {

std::vector<ConfigNote> apply(EngineConfig& config, std::map<std::string, std::string> env,
                              std::set<std::string> on_cli = {}) {
    return apply_env_config(config, on_cli, environment_from_map(std::move(env)));
}

std::string error_of(std::map<std::string, std::string> env) {
    EngineConfig config;
    try {
        apply(config, std::move(env));
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(EnvConfig, NothingSetKeepsDefaultsAndWarnsLikeVllm) {
    EngineConfig config;
    const auto notes = apply(config, {});
    EXPECT_EQ(config.kv_cache_space_gb, 4.0);
    EXPECT_EQ(config.kv_cache_dtype, "auto");
    EXPECT_EQ(config.weight_format, "auto");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].level, NoteLevel::warning);
    EXPECT_EQ(notes[0].text,
              "Environment variable VLLM_OPENVINO_KVCACHE_SPACE (GB) for OpenVINO backend is not "
              "set, using 4 by default.");
}

TEST(EnvConfig, KvCacheSpaceInGigabytes) {
    EngineConfig config;
    apply(config, {{"VLLM_OPENVINO_KVCACHE_SPACE", "2.5"}});
    EXPECT_EQ(config.kv_cache_space_gb, 2.5);
    apply(config, {{"VLLM_CPU_KVCACHE_SPACE", "8"}});
    EXPECT_EQ(config.kv_cache_space_gb, 8.0);
    apply(config, {{"VLLM_OPENVINO_KVCACHE_SPACE", "0"}});
    EXPECT_EQ(config.kv_cache_space_gb, 4.0);
}

TEST(EnvConfig, OvllmSpellingsWinOverVllm) {
    EngineConfig config;
    const auto notes =
        apply(config, {{"VLLM_OPENVINO_KVCACHE_SPACE", "2"}, {"OVLLM_KVCACHE_SPACE", "3"}});
    EXPECT_EQ(config.kv_cache_space_gb, 3.0);
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_EQ(notes[0].text,
              "VLLM_OPENVINO_KVCACHE_SPACE=2 is ignored because OVLLM_KVCACHE_SPACE=3 is set.");
    apply(config, {{"VLLM_OPENVINO_KVCACHE_SPACE", "2"}, {"OVLLM_OPENVINO_KVCACHE_SPACE", "6"}});
    EXPECT_EQ(config.kv_cache_space_gb, 6.0);
    apply(config,
          {{"VLLM_OPENVINO_KV_CACHE_PRECISION", "f16"}, {"OVLLM_KV_CACHE_PRECISION", "i8"}});
    EXPECT_EQ(config.kv_cache_dtype, "i8");
    apply(config, {{"VLLM_OPENVINO_DEVICE", "GPU"}, {"OVLLM_DEVICE", "cpu"}});
    EXPECT_EQ(config.device, "CPU");
}

TEST(EnvConfig, NamesInPrecedenceOrder) {
    const std::vector<std::string> expected = {
        "OVLLM_KV_CACHE_PRECISION", "OVLLM_OPENVINO_KV_CACHE_PRECISION",
        "OVLLM_OPENVINO_CPU_KV_CACHE_PRECISION", "VLLM_OPENVINO_KV_CACHE_PRECISION",
        "VLLM_OPENVINO_CPU_KV_CACHE_PRECISION"};
    EXPECT_EQ(env_names_for(kFieldKvCacheDtype), expected);
}

TEST(EnvConfig, KvCachePrecisionNoteMatchesVllm) {
    EngineConfig config;
    const auto notes = apply(config, {{"VLLM_OPENVINO_CPU_KV_CACHE_PRECISION", "U8"},
                                      {"VLLM_OPENVINO_KVCACHE_SPACE", "1"}});
    EXPECT_EQ(config.kv_cache_dtype, "u8");
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_EQ(
        notes[1].text,
        "KV cache type is overridden to u8 via VLLM_OPENVINO_CPU_KV_CACHE_PRECISION env var.");
}

TEST(EnvConfig, QuantizedWeightsSwitch) {
    for (const char* on : {"ON", "on", "True", "1"}) {
        EngineConfig config;
        apply(config, {{"VLLM_OPENVINO_ENABLE_QUANTIZED_WEIGHTS", on}});
        EXPECT_EQ(config.weight_format, "int8") << on;
    }
    for (const char* off : {"OFF", "false", "0"}) {
        EngineConfig config;
        apply(config, {{"VLLM_OPENVINO_ENABLE_QUANTIZED_WEIGHTS", off}});
        EXPECT_EQ(config.weight_format, "none") << off;
    }
}

TEST(EnvConfig, CommandLineWins) {
    EngineConfig config;
    config.kv_cache_dtype = "f16";
    config.kv_cache_space_gb = 1.0;
    const auto notes = apply(
        config, {{"VLLM_OPENVINO_KV_CACHE_PRECISION", "u8"}, {"VLLM_OPENVINO_KVCACHE_SPACE", "9"}},
        {kFieldKvCacheDtype, kFieldKvCacheSpace});
    EXPECT_EQ(config.kv_cache_dtype, "f16");
    EXPECT_EQ(config.kv_cache_space_gb, 1.0);
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_EQ(notes[0].text,
              "VLLM_OPENVINO_KVCACHE_SPACE=9 is ignored because --kv-cache-space was given.");
}

TEST(EnvConfig, BadValuesNameTheVariableAndTheChoices) {
    EXPECT_EQ(error_of({{"VLLM_OPENVINO_KV_CACHE_PRECISION", "fp8"}}),
              "VLLM_OPENVINO_KV_CACHE_PRECISION: 'fp8' is not a KV cache precision (accepted: u8, "
              "i8, f16, bf16, f32)");
    EXPECT_EQ(error_of({{"VLLM_OPENVINO_ENABLE_QUANTIZED_WEIGHTS", "yes"}}),
              "VLLM_OPENVINO_ENABLE_QUANTIZED_WEIGHTS: 'yes' is not a switch (accepted: ON, true, "
              "1, OFF, false, 0)");
    EXPECT_EQ(error_of({{"VLLM_OPENVINO_DEVICE", "GPU"}}),
              "VLLM_OPENVINO_DEVICE: device 'GPU' is not supported (accepted: CPU)");
    EXPECT_EQ(error_of({{"VLLM_OPENVINO_KVCACHE_SPACE", "-1"}}),
              "VLLM_OPENVINO_KVCACHE_SPACE: '-1' is not a KV cache size in GB (expected a number "
              ">= 0; 0 means 4)");
    EXPECT_EQ(error_of({{"OVLLM_KVCACHE_SPACE", "4GB"}}),
              "OVLLM_KVCACHE_SPACE: '4GB' is not a KV cache size in GB (expected a number >= 0; 0 "
              "means 4)");
}

}  // namespace
}  // namespace ovllm::config
