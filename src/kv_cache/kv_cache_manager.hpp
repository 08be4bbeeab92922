#pragma once
// Per-sequence block tables on top of the BlockPool, with prefix lookup and caching of full
// blocks. Knows sequences only by id and their token ids; knows nothing of tensors.
//
// Invariants
// - A sequence's block table covers its computed tokens plus those scheduled this step:
//   exactly ceil(tokens / block_size) blocks, in token order.
// - Every full block of a sequence gets a chained content hash (block_hash.hpp) when it is
//   allocated for the step that fills it, and is registered in the pool unless a block with
//   that content already is. Full blocks may be shared; a sequence only writes tokens past
//   its prefix hit, so it never writes into a block it shares.
// - Caching happens when slots are allocated, before the step runs: a sequence admitted later
//   in the same step may hit those blocks. This relies on the runner writing a step's new
//   keys and values before attention reads them, layer by layer, as paged attention does.
// - free() releases a sequence's blocks last-first, so its tail is evicted before its prefix.
// - With event recording on, each run of consecutive blocks that one allocation registers is
//   reported as one BlockStored (kv_events.hpp), after the evictions that made room for it.
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "kv_cache/block_hash.hpp"
#include "kv_cache/block_pool.hpp"

namespace ovllm::kv {

using SeqId = uint64_t;

// Cached full blocks that prefix a sequence's tokens.
struct PrefixHit {
    std::vector<BlockId> blocks;
    int num_tokens = 0;  // blocks.size() * block_size
};

struct SlotRequest {
    std::span<const TokenId> token_ids;  // every known token of the sequence
    int num_computed_tokens = 0;         // tokens already held in its blocks, before `hit`
    int num_new_tokens = 0;              // tokens to compute this step, after the hit
    uint64_t extra_key = 0;              // hash seed; must stay the same for the sequence
    // Draft tokens computed after those (speculative decoding): they get slots but are never
    // hashed, since the model may reject them and the next step overwrites their KV.
    int num_lookahead_tokens = 0;
};

struct KVCacheStats {
    int num_blocks = 0;
    int num_free_blocks = 0;  // includes free blocks that still carry a hash
    double usage = 0.0;       // 1 - free / total
    // Prompt tokens looked up when a sequence got its first blocks, and how many of them the
    // prefix cache served (summed over admissions, resumptions after preemption included).
    uint64_t prefix_query_tokens = 0;
    uint64_t prefix_hit_tokens = 0;
};

class KVCacheManager {
  public:
    KVCacheManager(int num_blocks, int block_size);

    int block_size() const { return block_size_; }
    int num_blocks_for(int num_tokens) const;

    // The longest run of cached full blocks that prefixes `token_ids` under `extra_key`.
    // Never all tokens: the last token is always left to compute, so a step produces logits.
    PrefixHit get_computed_blocks(std::span<const TokenId> token_ids, uint64_t extra_key) const;

    // Grows `seq`'s block table to cover num_computed + hit + num_new tokens, taking the
    // hit's blocks first (only on a sequence's first allocation). Returns the newly taken
    // blocks (a view into the table, valid until the sequence changes), or nothing and no
    // change when the free blocks cannot cover it.
    std::optional<std::span<const BlockId>> allocate_slots(SeqId seq, const SlotRequest& request,
                                                           const PrefixHit& hit = {});

    // Releases every block of `seq` (a no-op for an unknown sequence). With `keep_cached`
    // false, blocks no other sequence holds forget their hashes and are reused first: for a
    // finished sequence whose blocks nobody will look up (prefix caching off).
    void free(SeqId seq, bool keep_cached = true);

    // [num blocks] block ids covering the sequence's tokens; empty for an unknown sequence.
    std::span<const BlockId> block_table(SeqId seq) const;

    KVCacheStats stats() const;
    const BlockPool& pool() const { return pool_; }

    // Prefix-cache events (kv_events.hpp); see BlockPool::record_events.
    void record_events(bool on) { pool_.record_events(on); }
    // See BlockPool::reset_prefix_cache: false while any sequence holds blocks.
    bool reset_prefix_cache() { return pool_.reset_prefix_cache(); }
    std::vector<KVCacheEvent> take_events() { return pool_.take_events(); }

  private:
    struct SeqBlocks {
        std::vector<BlockId> blocks;
        std::vector<BlockHash> hashes;  // chained hashes of the first hashes.size() blocks
        BlockHash root = 0;
    };

    void cache_full_blocks(SeqBlocks& seq, std::span<const TokenId> token_ids, int num_tokens);

    int block_size_;
    BlockPool pool_;
    std::unordered_map<SeqId, SeqBlocks> seqs_;
    uint64_t prefix_query_tokens_ = 0;
    uint64_t prefix_hit_tokens_ = 0;
};

}  // namespace ovllm::kv
