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

}  // namespace ovllm::runner
