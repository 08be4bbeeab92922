#include "runner/precision.hpp"

#include "util/error.hpp"

namespace ovllm::runner {
namespace {

bool is_f16(const std::string& n) {
    return n == "f16" || n == "float16" || n == "half" || n == "fp16";
}
bool is_bf16(const std::string& n) {
    return n == "bf16" || n == "bfloat16";
}

}  // namespace

bool is_f32_name(const std::string& n) {
    return n == "f32" || n == "float32" || n == "float" || n == "fp32";
}

ov::element::Type parse_inference_precision(const std::string& name, const std::string& flag) {
    if (name == "auto" || is_bf16(name)) return ov::element::bf16;
    if (is_f16(name)) return ov::element::f16;
    if (is_f32_name(name)) return ov::element::f32;
    throw_error("{} '{}' is not supported (auto, bf16, f16, f32)", flag, name);
}

ov::element::Type parse_kv_cache_precision(const std::string& name, const std::string& flag) {
    if (name == "auto" || name == "u8") return ov::element::u8;
    if (name == "i8") return ov::element::i8;
    if (name == "u4") return ov::element::u4;
    if (is_bf16(name)) return ov::element::bf16;
    if (is_f16(name)) return ov::element::f16;
    if (is_f32_name(name)) return ov::element::f32;
    throw_error("{} '{}' is not supported (auto, u8, i8, u4, f16, bf16, f32)", flag, name);
}

Precisions resolve_precisions(const std::string& dtype, const std::string& kv_cache_dtype) {
    Precisions result;
    result.inference = parse_inference_precision(dtype);
    if (kv_cache_dtype == "auto" && result.inference == ov::element::f32 && dtype != "auto") {
        result.kv_cache = ov::element::f32;
        result.kv_cache_reason = "--kv-cache-dtype auto follows --dtype " + dtype;
    } else {
        result.kv_cache = parse_kv_cache_precision(kv_cache_dtype);
        result.kv_cache_reason = kv_cache_dtype == "auto" ? "--kv-cache-dtype auto (CPU default)"
                                                          : "--kv-cache-dtype " + kv_cache_dtype;
    }
    return result;
}

}  // namespace ovllm::runner
