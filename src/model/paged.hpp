#pragma once
// The paged form of a stateful model: ov::pass::SDPAToPagedAttention turns each layer's KV
// state into key_cache.N / value_cache.N inputs read through block tables, and a
// `sampled_tokens_indices` input (i64 [S]) picks the rows that reach the lm_head, so
// `logits` is [S, 1, vocab]. Inputs (by name): input_ids i64 [T], position_ids i64 [T],
// past_lens i32 [B], subsequence_begins i32 [B+1], block_indices i32 [sum of blocks],
// block_indices_begins i32 [B+1], max_context_len i32 [], sampled_tokens_indices i64 [S].
#include <memory>

#include <openvino/core/model.hpp>

namespace ovllm::model {

inline constexpr const char* kSampledTokensIndices = "sampled_tokens_indices";

// True when the model already holds PagedAttention nodes.
bool is_paged_model(const ov::Model& model);

// Converts a copy of `stateful` (left untouched, e.g. for saving as IR). Throws ovllm::Error
// when the pass leaves SDPA nodes or state behind (the graph did not match its pattern).
std::shared_ptr<ov::Model> make_paged_model(const std::shared_ptr<const ov::Model>& stateful);

}  // namespace ovllm::model
