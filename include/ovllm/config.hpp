#pragma once
// Everything a user can tune about the engine: one struct, one CLI flag per field, one
// documented default. vLLM's names and defaults where vLLM has them.
#include <cstdint>
#include <optional>
#include <string>

namespace ovllm {

// vLLM's --kv-events-config (vllm/config/kv_events.py): publishing prefix-cache events for
// KV-aware routers. JSON keys are these field names.
struct KVEventsConfig {
    bool enable_kv_cache_events = false;
    std::string publisher = "zmq";          // zmq | null
    std::string endpoint = "tcp://*:5557";  // PUB socket: binds with '*', '::', ipc://, inproc://
    std::string replay_endpoint;            // ROUTER socket answering replay requests; "" = none
    int buffer_steps = 10000;               // batches kept for replay
    int hwm = 100000;                       // ZeroMQ send high-water mark, messages
    int max_queue_size = 100000;            // batches waiting for the publisher thread
    std::string topic;                      // first frame of every message
};

// vLLM's --speculative-config, method "ngram" (prompt lookup): each decode step proposes up
// to num_speculative_tokens drafts by matching the sequence's last n tokens (n from
// prompt_lookup_max down to prompt_lookup_min) earlier in its prompt and output, and the
// model checks them all in that one step. num_speculative_tokens 0: off.
struct SpeculativeConfig {
    std::string method;              // "ngram"; empty when off
    int num_speculative_tokens = 0;  // drafts per step at most
    int prompt_lookup_max = 0;       // longest n-gram matched
    int prompt_lookup_min = 0;       // shortest n-gram matched
    bool enabled() const { return num_speculative_tokens > 0; }
};

struct EngineConfig {
    std::string model;      // HF folder, OpenVINO IR folder, GGUF file, or a built-in name
    std::string tokenizer;  // defaults to `model`
    std::string load_format = "auto";  // auto | dummy (random weights of the right shapes)
    std::string dtype = "auto";        // inference precision: auto (bf16 here) | bf16 | f16 | f32
    std::string kv_cache_dtype = "auto";  // auto (u8) | u8 | i8 | f16 | bf16 | f32
    std::string weight_format = "auto";   // auto | int8 | int4 | none
    double kv_cache_space_gb = 4.0;       // VLLM_OPENVINO_KVCACHE_SPACE; 0 means 4
    int block_size = 32;    // tokens per KV block; the CPU plugin's only size (others throw)
    int max_model_len = 0;  // 0 = max_position_embeddings
    int max_num_seqs = 256;
    int max_num_batched_tokens = 0;  // 0 = max(8192, max_model_len)
    bool enable_chunked_prefill = true;
    bool enable_prefix_caching = false;
    int num_threads = 0;       // 0 = all cores
    bool profile_ops = false;  // time each operation of the model (bench --profile-ops)
    uint64_t seed = 0;
    std::string device = "CPU";
    KVEventsConfig kv_events_config;  // published by `ovllm serve` (needs prefix caching)
    SpeculativeConfig speculative_config;
};

}  // namespace ovllm
