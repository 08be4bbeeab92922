#pragma once
// The KV-cache block pool: ref counts, an LRU free queue and a hash -> block map of full
// blocks. It knows nothing of sequences or models; callers pass block ids and hashes.
//
// Invariants
// - Block ids are 0..num_blocks-1. A block is in the free queue exactly when its ref count is 0.
// - The free queue is a doubly linked list threaded through the block array by index, so no
//   operation allocates. allocate() takes from the head. release() appends a block that
//   carries a hash to the tail, so cached blocks leave in least-recently-freed order (exact
//   LRU), and puts a block without one at the head: it has nothing worth keeping, and
//   reusing it first keeps the KV memory actually touched (the process's RSS) as small as
//   the load needs instead of walking through the whole cache.
// - A full block may carry a hash; then the map sends that hash to it. A freed block keeps
//   its hash (a later sequence can still hit it) until allocate() hands it out again, which
//   evicts the map entry. One block per hash: a second block with the same content is not
//   registered and stays plain. The map is reserved for num_blocks entries up front.
// - With event recording on, every hash a block loses is reported in a BlockRemoved, in
//   order; the cache manager adds the BlockStored events (it knows the tokens).
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "kv_cache/kv_events.hpp"

namespace ovllm::kv {

using BlockId = int32_t;

class BlockPool {
  public:
    explicit BlockPool(int num_blocks);

    int num_blocks() const { return static_cast<int>(blocks_.size()); }
    int num_free_blocks() const { return num_free_; }
    // Blocks that carry a hash, in use or free (a free one is evicted when reallocated).
    int num_cached_blocks() const { return static_cast<int>(cached_.size()); }

    // Appends `count` blocks from the head of the free queue to `out`, each with ref count 1.
    // A block that carried a hash loses it. Returns false (and takes nothing) when fewer than
    // `count` blocks are free.
    bool allocate(int count, std::vector<BlockId>& out);

    // The block that holds content `hash`, if any (it may be free or in use).
    std::optional<BlockId> lookup(BlockHash hash) const;

    // Takes a reference on each block (a prefix hit). A block with ref count 0 leaves the
    // free queue, keeping its hash.
    void touch(std::span<const BlockId> ids);

    // Drops one reference; a block reaching ref count 0 goes to the tail of the free queue
    // when it carries a hash, else to its head. With `keep_hash` false a block reaching ref
    // count 0 forgets its hash first (its content will not be looked up again). Blocks are
    // released in the order given: callers pass a sequence's blocks last-first so its tail
    // is evicted before its prefix.
    void release(BlockId id, bool keep_hash = true);

    // Registers `hash` for the full block `id`. Returns false, changing nothing, when the
    // hash already names another block or `id` already carries a hash.
    bool cache(BlockId id, BlockHash hash);

    // Forgets every block's hash, as vLLM's reset_prefix_cache does: no later lookup hits.
    // Records one AllBlocksCleared rather than a BlockRemoved per block. Returns false,
    // changing nothing, while any block is in use (a running sequence still needs its hashes
    // to share and cache its blocks).
    bool reset_prefix_cache();

    int ref_count(BlockId id) const { return blocks_.at(checked(id)).ref_count; }
    std::optional<BlockHash> block_hash(BlockId id) const;

    // Starts or stops recording events. Starting records an AllBlocksCleared first: a
    // consumer that knew an earlier incarnation of this cache learns that it is gone.
    void record_events(bool on);
    bool recording_events() const { return recording_; }
    // Appends an event to the log (the cache manager's BlockStored); a no-op when not
    // recording.
    void record(KVCacheEvent event);
    // The events since the last call, oldest first.
    std::vector<KVCacheEvent> take_events();

    // The free queue from head (next to be allocated) to tail; for tests and debugging.
    std::vector<BlockId> free_queue() const;

  private:
    static constexpr BlockId kNone = -1;
    struct Block {
        int ref_count = 0;
        BlockId prev = kNone;  // free-queue links; kNone at the ends or when not free
        BlockId next = kNone;
        bool has_hash = false;
        BlockHash hash = 0;
    };

    size_t checked(BlockId id) const;
    void push_back(BlockId id);
    void push_front(BlockId id);
    void unlink(BlockId id);
    // Forgets the block's hash (it must have one): map entry, flag and, when recording, a
    // BlockRemoved (merged into the previous event when that is a BlockRemoved too).
    void drop_hash(Block& block);

    std::vector<Block> blocks_;
    BlockId head_ = kNone;
    BlockId tail_ = kNone;
    int num_free_ = 0;
    std::unordered_map<BlockHash, BlockId> cached_;
    bool recording_ = false;
    std::vector<KVCacheEvent> events_;
};

}  // namespace ovllm::kv
