// --weight-format auto's per-CPU choice (runner/weight_policy.hpp), without a model.
#include <gtest/gtest.h>

#include "runner/weight_policy.hpp"

namespace ovllm::runner {
namespace {

constexpr const char* kSapphireRapids =
    " fpu sse2 avx2 avx512f avx512_vnni avx512_bf16 "
    "amx_bf16 amx_tile amx_int8";
constexpr const char* kZen4 = " fpu sse2 avx2 avx512f avx512_vnni avx512_bf16";

TEST(WeightPolicy, FlagsAreWholeWordsAndTheIsaCapTurnsAmxOff) {
    EXPECT_TRUE(parse_cpu_features(kSapphireRapids, "").amx_bf16);
    EXPECT_TRUE(parse_cpu_features(kSapphireRapids, "AVX512_CORE_AMX").amx_bf16);
    EXPECT_FALSE(parse_cpu_features(kSapphireRapids, "AVX512_CORE_BF16").amx_bf16);
    EXPECT_TRUE(parse_cpu_features(kSapphireRapids, "AVX512_CORE_BF16").avx512_bf16);
    const CpuFeatures zen4 = parse_cpu_features(kZen4, "");
    EXPECT_FALSE(zen4.amx_bf16);
    EXPECT_TRUE(zen4.avx512_vnni);
    EXPECT_FALSE(parse_cpu_features("amx_bf16x avx512_vnni_extra", "").amx_bf16);
    EXPECT_FALSE(parse_cpu_features("amx_bf16x avx512_vnni_extra", "").avx512_vnni);
}

TEST(WeightPolicy, SmallModelsKeepBf16WeightsOnlyWithAmx) {
    const CpuFeatures amx = parse_cpu_features(kSapphireRapids, "");
    const CpuFeatures zen4 = parse_cpu_features(kZen4, "");
    EXPECT_EQ(auto_weight_format(amx, 125'000'000).format, model::WeightFormat::none);
    EXPECT_EQ(auto_weight_format(amx, kBf16WeightsMaxParameters).format, model::WeightFormat::none);
    EXPECT_EQ(auto_weight_format(amx, kBf16WeightsMaxParameters + 1).format,
              model::WeightFormat::int8);
    EXPECT_EQ(auto_weight_format(zen4, 125'000'000).format, model::WeightFormat::int8);
    EXPECT_EQ(auto_weight_format(CpuFeatures{}, 125'000'000).format, model::WeightFormat::int8);
    EXPECT_NE(auto_weight_format(amx, 125'000'000).reason.find("125M parameters"),
              std::string::npos);
}

TEST(WeightPolicy, ThisMachineIsReadAndTheCapIsHonoured) {
    const CpuFeatures capped = detect_cpu_features(
        config::environment_from_map({{"ONEDNN_MAX_CPU_ISA", "avx512_core_bf16"}}));
    EXPECT_FALSE(capped.amx_bf16);
}

}  // namespace
}  // namespace ovllm::runner
