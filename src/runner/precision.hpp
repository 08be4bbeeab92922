#pragma once
// User-facing precision names (vLLM's --dtype and --kv-cache-dtype spellings) to OpenVINO types.
#include <string>

#include <openvino/core/model.hpp>
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

// What --dtype auto's compute precision depends on besides the flags.
struct AutoPrecisionInput {
    int max_num_seqs = 0;
    ov::element::Type weight_type;  // main_weight_type (u8/u4/i8/i4: compressed)
    bool cpu_has_amx = false;
};

// At most this many sequences at once (--max-num-seqs) make --dtype auto pick f32 compute
// with dynamic quantization over compressed weights on AMX (see auto_inference_precision).
inline constexpr int kDynamicQuantizationMaxSeqs = 8;

// --dtype auto's compute precision: bf16, except for few sequences at a time (--max-num-seqs
// up to kDynamicQuantizationMaxSeqs) over int8/int4 weights on a CPU with AMX. There f32
// compute with the plugin's dynamic quantization of activations does the small matrix
// products of decode steps as int8 dot products that keep up with memory: Qwen2.5-Coder-1.5B
// int8 at batch 1 decodes at 72-76 against 121-128 ms/token, int4 at 50-54 against 76-81;
// the 0.5B's 128/128 throughput with C sequences at once is 1.45x, 1.82x, 1.43x, 1.07x,
// 0.90x, 0.73x bf16's for C = 2, 4, 8, 16, 32, 64, as AMX's bf16 tiles take over in large
// batches. Other CPUs were not measured and keep bf16. The KV cache stays u8.
ov::element::Type auto_inference_precision(const AutoPrecisionInput& input);

// The element type of the constants that hold the most bytes: the weights' storage (u8/u4
// for compressed weights, whatever the model's source).
ov::element::Type main_weight_type(const ov::Model& model);

// Whether this CPU has AMX (amx_int8 among /proc/cpuinfo's flags; false where it cannot be read).
bool cpu_has_amx();

}  // namespace ovllm::runner
