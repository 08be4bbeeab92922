#include "runner/precision.hpp"

#include <fstream>
#include <map>

#include <openvino/op/constant.hpp>

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

ov::element::Type auto_inference_precision(const AutoPrecisionInput& input) {
    const ov::element::Type w = input.weight_type;
    const bool compressed = w == ov::element::u8 || w == ov::element::i8 || w == ov::element::u4 ||
                            w == ov::element::i4;
    const bool few = input.max_num_seqs >= 1 && input.max_num_seqs <= kDynamicQuantizationMaxSeqs;
    return few && compressed && input.cpu_has_amx ? ov::element::f32 : ov::element::bf16;
}

ov::element::Type main_weight_type(const ov::Model& model) {
    std::map<ov::element::Type, size_t> bytes;
    for (const auto& node : model.get_ordered_ops()) {
        if (const auto constant = ov::as_type_ptr<ov::op::v0::Constant>(node))
            bytes[constant->get_element_type()] += constant->get_byte_size();
    }
    ov::element::Type main = ov::element::dynamic;
    size_t most = 0;
    for (const auto& [type, size] : bytes) {
        if (size > most) {
            main = type;
            most = size;
        }
    }
    return main;
}

bool cpu_has_amx() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.starts_with("flags")) return line.find(" amx_int8") != std::string::npos;
    }
    return false;
}

}  // namespace ovllm::runner
