// vLLM's --dtype / --kv-cache-dtype names to OpenVINO types, and what "auto" resolves to.
#include <gtest/gtest.h>

#include <openvino/op/constant.hpp>

#include "runner/precision.hpp"
#include "util/error.hpp"

namespace ovllm::runner {
namespace {

TEST(Precision, KvCacheAutoFollowsAnF32Dtype) {
    for (const char* name : {"f32", "float32", "float", "fp32"}) {
        const Precisions p = resolve_precisions(name, "auto");
        EXPECT_EQ(p.inference, ov::element::f32) << name;
        EXPECT_EQ(p.kv_cache, ov::element::f32) << name;
        EXPECT_EQ(p.kv_cache_reason, std::string("--kv-cache-dtype auto follows --dtype ") + name);
    }
}

TEST(Precision, KvCacheAutoIsU8OtherwiseAndAnExplicitChoiceWins) {
    EXPECT_EQ(resolve_precisions("auto", "auto").kv_cache, ov::element::u8);
    EXPECT_EQ(resolve_precisions("bf16", "auto").kv_cache, ov::element::u8);
    EXPECT_EQ(resolve_precisions("auto", "auto").inference, ov::element::bf16);
    EXPECT_EQ(resolve_precisions("f32", "u8").kv_cache, ov::element::u8);
    EXPECT_EQ(resolve_precisions("f32", "f16").kv_cache, ov::element::f16);
    EXPECT_EQ(resolve_precisions("f32", "u8").kv_cache_reason, "--kv-cache-dtype u8");
}

TEST(Precision, UnknownNamesAreErrorsNamingTheFlag) {
    EXPECT_THROW(resolve_precisions("f64", "auto"), Error);
    try {
        resolve_precisions("auto", "q3");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--kv-cache-dtype 'q3'"), std::string::npos)
            << e.what();
    }
}

TEST(Precision, AutoComputeIsF32OnlyForFewSequencesOverCompressedWeightsOnAmx) {
    for (const int seqs : {1, 2, kDynamicQuantizationMaxSeqs})
        EXPECT_EQ(auto_inference_precision({seqs, ov::element::u8, true}), ov::element::f32);
    for (const ov::element::Type compressed : {ov::element::u4, ov::element::i4, ov::element::i8})
        EXPECT_EQ(auto_inference_precision({1, compressed, true}), ov::element::f32);
    EXPECT_EQ(auto_inference_precision({kDynamicQuantizationMaxSeqs + 1, ov::element::u8, true}),
              ov::element::bf16)
        << "large batches keep AMX's bf16 tiles";
    EXPECT_EQ(auto_inference_precision({256, ov::element::u8, true}), ov::element::bf16);
    EXPECT_EQ(auto_inference_precision({1, ov::element::bf16, true}), ov::element::bf16)
        << "uncompressed weights";
    EXPECT_EQ(auto_inference_precision({1, ov::element::u8, false}), ov::element::bf16)
        << "not measured without AMX";
}

TEST(Precision, MainWeightTypeIsTheTypeHoldingTheMostBytes) {
    using ov::op::v0::Constant;
    const auto big = std::make_shared<Constant>(ov::element::u8, ov::Shape{64, 64}, 1);
    const auto small = std::make_shared<Constant>(ov::element::f32, ov::Shape{64}, 1.0f);
    const auto model =
        std::make_shared<ov::Model>(ov::OutputVector{big, small}, ov::ParameterVector{}, "weights");
    EXPECT_EQ(main_weight_type(*model), ov::element::u8);
}

}  // namespace
}  // namespace ovllm::runner
