#pragma once
// Runs one step of the paged model over a batch of sequences: prefill chunks and decode
// tokens mixed in one infer(). The runner owns the compiled model, the infer request and
// the KV-cache tensors; it knows blocks only as ids handed in per sequence.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <openvino/core/any.hpp>
#include <openvino/core/model.hpp>
#include <openvino/core/shape.hpp>
#include <openvino/core/type/element_type.hpp>
#include <openvino/runtime/compiled_model.hpp>
#include <openvino/runtime/infer_request.hpp>
#include <openvino/runtime/tensor.hpp>

namespace ovllm::runner {

struct SequenceInput {                 // one sequence's slice of a step
    std::vector<int64_t> token_ids;    // new tokens this step (a prefill chunk, or 1 decode token)
    int64_t past_len = 0;              // tokens already in the KV cache; positions are past_len + i
    std::vector<int32_t> block_table;  // physical block ids covering past + new tokens
    bool sample = true;                // return logits for this sequence's last new token
    // Also return logits for new tokens [extra_logits_begin, extra_logits_begin +
    // extra_logits_count) (prompt logprobs). Zero for every request that did not ask, so
    // their steps project only the sampled rows through the lm_head.
    size_t extra_logits_begin = 0;
    size_t extra_logits_count = 0;
};

struct ModelInput {
    std::vector<SequenceInput> sequences;
};

// rows = sampled sequences in input order; [rows, vocab] f32, valid until the next run().
// The buffer is the runner's scratch output: the caller may edit it in place (the sampler
// does), which saves a [rows, vocab] copy per step. The extra rows (SequenceInput's
// extra_logits_*) follow, [extra_rows, vocab], in input order and token order.
struct LogitsView {
    float* data = nullptr;
    size_t rows = 0;
    size_t vocab = 0;
    size_t extra_rows = 0;
    float* row(size_t i) const { return data + i * vocab; }
    float* extra_row(size_t i) const { return data + (rows + i) * vocab; }
};

struct RunnerOptions {
    ov::element::Type inference_precision = ov::element::bf16;
    ov::element::Type kv_cache_precision = ov::element::u8;  // f32 implies f32 inference
    size_t num_kv_blocks = 0;                                // when 0, kv_cache_bytes decides
    size_t kv_cache_bytes = 0;  // when both are 0: kDefaultKvCacheBytes
    int num_threads = 0;        // 0 = all cores
    bool profile_ops = false;   // time every operation (ov::enable_profiling); see op_times()
    ov::AnyMap properties;      // extra compile properties; they override the above
};

// Time spent in one kind of operation (the CPU plugin's node type, e.g. "FullyConnected" or
// "PagedAttentionExtension"), summed over every run() so far.
struct OpTime {
    std::string type;
    double seconds = 0.0;
    uint64_t executions = 0;  // node executions, over all nodes of the type
};

inline constexpr size_t kDefaultKvCacheBytes = size_t{1} << 30;  // 1 GiB

// The compiled KV-cache layout. Shapes are per block (dims 1..3 of the cache tensors, e.g.
// u8 keys [kv_heads, block_size + 8, head_dim] because of per-channel scales and zero points).
struct KvCacheLayout {
    struct Layer {
        ov::element::Type key_type;
        ov::Shape key_block_shape;
        ov::element::Type value_type;
        ov::Shape value_block_shape;
    };
    std::vector<Layer> layers;
    int block_size = 0;          // tokens per block
    size_t bytes_per_block = 0;  // over all layers, keys and values
};

class ModelRunner {
  public:
    // Takes a stateful model (converted to paged here, on a copy) or an already paged one.
    ModelRunner(std::shared_ptr<ov::Model> paged_or_stateful, RunnerOptions options);

    // Throws ovllm::Error for an empty step, a block table too short for past + new tokens,
    // or a block id outside [0, num_blocks()).
    LogitsView run(const ModelInput& input);

    const KvCacheLayout& kv_layout() const { return layout_; }
    int block_size() const { return layout_.block_size; }
    size_t num_blocks() const { return num_blocks_; }
    const RunnerOptions& options() const { return options_; }
    // With RunnerOptions::profile_ops: time per operation type, largest first; else empty.
    std::vector<OpTime> op_times() const;
    // With profile_ops: the kernels each operation type ran (the plugin's exec types, such as
    // "brgemm_avx512_amx_bf16"), which show the instruction set in use; else empty.
    const std::map<std::string, std::set<std::string>>& kernels() const { return kernels_; }

  private:
    void fill_inputs(const ModelInput& input);

    RunnerOptions options_;
    ov::CompiledModel compiled_;
    ov::InferRequest request_;
    KvCacheLayout layout_;
    size_t num_blocks_ = 0;
    size_t num_sampled_ = 0;                  // of the last run's logits rows
    std::vector<ov::Tensor> kv_tensors_;      // bound once; keys and values of every layer
    std::vector<float> converted_logits_;     // only when the model's logits are not f32
    std::map<std::string, OpTime> op_times_;  // by type, with profile_ops
    std::map<std::string, std::set<std::string>> kernels_;  // by type, with profile_ops
};

// Compile properties for these options (also used by tools that compile the model
// themselves). f32 KV forces f32 inference, which the CPU plugin requires.
ov::AnyMap compile_properties(const RunnerOptions& options);

}  // namespace ovllm::runner
