#pragma once
// What happened to the prefix cache, as plain values: the three events vLLM publishes for
// KV-aware routers (vllm/distributed/kv_events.py). The block pool and the cache manager
// append them in the order things happen; whoever runs the engine takes them after a step
// and ships them (server/kv_events_publisher). Nothing here knows of a transport.
//
// - BlockStored: a run of full blocks became findable by content. `block_hashes[i]` names
//   block i of the run; `parent_block_hash` is the hash of the block before the run (none
//   for a run that starts the sequence); `token_ids` holds the run's tokens, block_size of
//   them per block, so a consumer can recompute its own content keys.
// - BlockRemoved: blocks whose content can no longer be found (evicted for reuse).
// - AllBlocksCleared: every cached block is gone (the cache was reset).
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

namespace ovllm::kv {

using BlockHash = uint64_t;

struct BlockStored {
    std::vector<BlockHash> block_hashes;
    std::optional<BlockHash> parent_block_hash;
    std::vector<int64_t> token_ids;  // [block_hashes.size() * block_size]
    int block_size = 0;
    bool operator==(const BlockStored&) const = default;
};

struct BlockRemoved {
    std::vector<BlockHash> block_hashes;
    bool operator==(const BlockRemoved&) const = default;
};

struct AllBlocksCleared {
    bool operator==(const AllBlocksCleared&) const = default;
};

using KVCacheEvent = std::variant<BlockStored, BlockRemoved, AllBlocksCleared>;

}  // namespace ovllm::kv
