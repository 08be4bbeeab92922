#pragma once
// The text of the log lines vLLM's OpenVINO backend printed, so that scripts and eyes
// used to them still work. Each function returns the message only; the caller logs it
// (OVLLM_INFO("{}", ...)) so the line carries the caller's file and line number.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ovllm/config.hpp"

namespace ovllm::vllm_log {

// "Initializing an LLM engine (v0.1.0) with config: model='...', ..., max_seq_len=2048,
// ..., kv_cache_dtype=u8, ..., device_config=cpu, seed=0, ..., enable_prefix_caching=False"
// `max_seq_len` is the resolved context length (config.max_model_len may still be 0).
std::string engine_config_line(const EngineConfig& config, int max_seq_len,
                               std::string_view version);

// "# CPU blocks: 7281"
std::string cpu_blocks_line(int64_t num_blocks);

// Weights compressed at one bit width, as NNCF counted them.
struct WeightGroup {
    int bits = 8;
    int64_t num_params = 0;  // weight elements
    int num_layers = 0;
    // Whether these layers count towards the int4/int8 ratio; in int4 modes the embedding
    // and lm_head stay at 8 bits and are not ratio-defining.
    bool ratio_defining = true;
};

// NNCF's "Statistics of the bitwidth distribution" block, every line ending in '\n':
// the "INFO:nncf:" heading, then one row per bit width (widest first) with the share of
// all parameters and of ratio-defining parameters, "100% (74 / 74)".
std::string nncf_bitwidth_table(const std::vector<WeightGroup>& groups);

}  // namespace ovllm::vllm_log
