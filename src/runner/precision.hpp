#pragma once
// User-facing precision names (vLLM's --dtype and --kv-cache-dtype spellings) to OpenVINO types.
#include <string>

#include <openvino/core/type/element_type.hpp>

namespace ovllm::runner {

// auto -> bf16 (the CPU default here); bf16|bfloat16, f16|float16|half, f32|float32|float.
// Throws ovllm::Error naming `flag` and listing the accepted values.
ov::element::Type parse_inference_precision(const std::string& name,
                                            const std::string& flag = "--dtype");
// auto -> u8; u8, i8, u4, f16, bf16, f32 (and their long spellings).
ov::element::Type parse_kv_cache_precision(const std::string& name,
                                           const std::string& flag = "--kv-cache-dtype");

// True for every spelling of f32 (f32, float32, float, fp32): the exact mode.
bool is_f32_name(const std::string& name);

// The two precisions a run uses, from the user's --dtype and --kv-cache-dtype.
struct Precisions {
    ov::element::Type inference;
    ov::element::Type kv_cache;
    std::string kv_cache_reason;  // why kv_cache is what it is, for the log
};

// --kv-cache-dtype auto means the model's dtype, as in vLLM, where the user asks for exact
// numerics: with --dtype f32 the cache is f32 too (a u8 cache would quantize every key and
// value). Otherwise auto stays u8, vLLM-OpenVINO's CPU default.
Precisions resolve_precisions(const std::string& dtype, const std::string& kv_cache_dtype);

}  // namespace ovllm::runner
