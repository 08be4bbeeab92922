// vLLM's --dtype / --kv-cache-dtype names to OpenVINO types, and what "auto" resolves to.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ovllm::runner
