#pragma once
// --weight-format auto: the weight compression a model gets on this CPU, chosen at load from
// the CPU's matrix instructions and the model's size. A format the user names (--weight-format,
// VLLM_OPENVINO_ENABLE_QUANTIZED_WEIGHTS) is always used as given; this only fills in "auto".
//
// Why the rule is what it is (inference in bf16, the default):
// - With AMX, the CPU plugin multiplies bf16 weights directly on AMX tiles, while int8 weights
//   are first expanded per tile. For a small model, whose weights stay in cache and whose
//   steps are compute-bound, bf16 weights are faster: opt-125m, 128/128 tokens x 256 prompts
//   on a 2-vCPU Xeon with AMX gave 2242 total tokens/s with bf16 weights against 2045 with
//   int8 (+10 %).
// - A larger model is bound by memory bandwidth, and int8 weights halve the bytes each step
//   reads; without AMX (AVX-512 VNNI or AVX2) int8 weights with dynamic quantization of the
//   activations use the integer dot-product instructions. Both keep int8.
#include <cstdint>
#include <string>
#include <string_view>

#include "model/quantize.hpp"
#include "util/env_config.hpp"

namespace ovllm::runner {

struct CpuFeatures {
    bool amx_bf16 = false;  // usable: the CPU has it and ONEDNN_MAX_CPU_ISA allows it
    bool avx512_bf16 = false;
    bool avx512_vnni = false;
};

// From the `flags` line of /proc/cpuinfo and the oneDNN ISA cap (config::onednn_max_cpu_isa):
// a cap that names no AMX ISA turns AMX off, as it does for the plugin's kernels.
CpuFeatures parse_cpu_features(std::string_view cpuinfo_flags, std::string_view isa_cap);
// This machine's features (the first processor's flags in /proc/cpuinfo); all false when the
// file cannot be read, which leads to the portable choice.
CpuFeatures detect_cpu_features(const config::EnvLookup& env = config::process_environment());

// Models up to this many parameters get bf16 weights on AMX.
inline constexpr int64_t kBf16WeightsMaxParameters = 200'000'000;

struct WeightFormatPolicy {
    model::WeightFormat format = model::WeightFormat::int8;
    std::string reason;  // one line for the log
};
WeightFormatPolicy auto_weight_format(const CpuFeatures& cpu, int64_t num_parameters);

}  // namespace ovllm::runner
