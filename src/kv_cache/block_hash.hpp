#pragma once
// Content hashes of full KV blocks, chained so that a block's hash names its whole prefix:
//   hash(block i) = H(hash(block i-1), the block's token ids),  hash(block -1) = root(extra_key)
// `extra_key` stands for everything besides the token ids that changes a block's content
// (a cache salt, an adapter, or a sharing group when cross-request caching is off).
//
// H is a 64-bit hash: each token id goes through a multiply-rotate-multiply round (every
// round is a bijection of the accumulator for a fixed token, so two blocks that differ in one
// token never meet in the same round), and the result through a full avalanche finalizer.
// Treating outputs as random, a lookup against a map of M blocks collides with probability
// about M / 2^64 (1e6 blocks: 5e-14 per lookup), which is negligible next to hardware error
// rates. The chaining means a collision would also need the same parent hash to be served.
#include <cstdint>
#include <span>

#include "kv_cache/block_pool.hpp"

namespace ovllm::kv {

using TokenId = int64_t;

// Hash of the empty prefix for a given extra key.
BlockHash root_hash(uint64_t extra_key);

// Hash of one full block given its parent's hash.
BlockHash hash_block(BlockHash parent, std::span<const TokenId> token_ids);

// Mixes two keys into one (order matters); for building extra keys.
uint64_t combine_keys(uint64_t a, uint64_t b);

}  // namespace ovllm::kv
