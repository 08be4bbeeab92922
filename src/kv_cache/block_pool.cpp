#include "kv_cache/block_pool.hpp"

#include "util/error.hpp"

namespace ovllm::kv {

BlockPool::BlockPool(int num_blocks) {
    if (num_blocks <= 0) {
        throw_error("kv cache: num_blocks must be positive, got {}", num_blocks);
    }
    blocks_.resize(static_cast<size_t>(num_blocks));
    cached_.reserve(static_cast<size_t>(num_blocks));
    for (BlockId id = 0; id < num_blocks; ++id) {
        push_back(id);
    }
}

size_t BlockPool::checked(BlockId id) const {
    if (id < 0 || id >= num_blocks()) {
        throw_error("kv cache: block id {} out of range [0, {})", id, num_blocks());
    }
    return static_cast<size_t>(id);
}

void BlockPool::push_back(BlockId id) {
    Block& block = blocks_[static_cast<size_t>(id)];
    block.prev = tail_;
    block.next = kNone;
    if (tail_ == kNone) {
        head_ = id;
    } else {
        blocks_[static_cast<size_t>(tail_)].next = id;
    }
    tail_ = id;
    ++num_free_;
}

void BlockPool::push_front(BlockId id) {
    Block& block = blocks_[static_cast<size_t>(id)];
    block.prev = kNone;
    block.next = head_;
    if (head_ == kNone) {
        tail_ = id;
    } else {
        blocks_[static_cast<size_t>(head_)].prev = id;
    }
    head_ = id;
    ++num_free_;
}

void BlockPool::unlink(BlockId id) {
    Block& block = blocks_[static_cast<size_t>(id)];
    if (block.prev == kNone) {
        head_ = block.next;
    } else {
        blocks_[static_cast<size_t>(block.prev)].next = block.next;
    }
    if (block.next == kNone) {
        tail_ = block.prev;
    } else {
        blocks_[static_cast<size_t>(block.next)].prev = block.prev;
    }
    block.prev = kNone;
    block.next = kNone;
    --num_free_;
}

bool BlockPool::allocate(int count, std::vector<BlockId>& out) {
    if (count < 0 || count > num_free_) {
        return false;
    }
    for (int i = 0; i < count; ++i) {
        const BlockId id = head_;
        unlink(id);
        Block& block = blocks_[static_cast<size_t>(id)];
        if (block.has_hash) {
            drop_hash(block);
        }
        block.ref_count = 1;
        out.push_back(id);
    }
    return true;
}

std::optional<BlockId> BlockPool::lookup(BlockHash hash) const {
    const auto it = cached_.find(hash);
    if (it == cached_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void BlockPool::touch(std::span<const BlockId> ids) {
    for (const BlockId id : ids) {
        Block& block = blocks_[checked(id)];
        if (block.ref_count == 0) {
            unlink(id);
        }
        ++block.ref_count;
    }
}

void BlockPool::release(BlockId id, bool keep_hash) {
    Block& block = blocks_[checked(id)];
    if (block.ref_count <= 0) {
        throw_error("kv cache: block {} released more often than taken", id);
    }
    if (--block.ref_count == 0) {
        if (!keep_hash && block.has_hash) {
            drop_hash(block);
        }
        // A block with content worth finding again waits its turn at the tail; one without
        // is reused first, which keeps the cache's touched memory (and RSS) small.
        if (block.has_hash) {
            push_back(id);
        } else {
            push_front(id);
        }
    }
}

bool BlockPool::cache(BlockId id, BlockHash hash) {
    Block& block = blocks_[checked(id)];
    if (block.has_hash) {
        return false;
    }
    const auto [it, inserted] = cached_.try_emplace(hash, id);
    if (!inserted) {
        return false;
    }
    block.has_hash = true;
    block.hash = hash;
    return true;
}

std::optional<BlockHash> BlockPool::block_hash(BlockId id) const {
    const Block& block = blocks_[checked(id)];
    if (!block.has_hash) {
        return std::nullopt;
    }
    return block.hash;
}

void BlockPool::drop_hash(Block& block) {
    cached_.erase(block.hash);
    if (recording_) {
        BlockRemoved* last = events_.empty() ? nullptr : std::get_if<BlockRemoved>(&events_.back());
        if (last == nullptr) {
            last = &std::get<BlockRemoved>(events_.emplace_back(BlockRemoved{}));
        }
        last->block_hashes.push_back(block.hash);
    }
    block.has_hash = false;
    block.hash = 0;
}

bool BlockPool::reset_prefix_cache() {
    if (num_free_ != num_blocks()) return false;
    for (Block& block : blocks_) block.has_hash = false;
    cached_.clear();
    record(AllBlocksCleared{});
    return true;
}

void BlockPool::record_events(bool on) {
    if (on && !recording_) {
        events_.emplace_back(AllBlocksCleared{});
    }
    recording_ = on;
}

void BlockPool::record(KVCacheEvent event) {
    if (recording_) {
        events_.push_back(std::move(event));
    }
}

std::vector<KVCacheEvent> BlockPool::take_events() {
    std::vector<KVCacheEvent> taken;
    taken.swap(events_);
    return taken;
}

std::vector<BlockId> BlockPool::free_queue() const {
    std::vector<BlockId> order;
    order.reserve(static_cast<size_t>(num_free_));
    for (BlockId id = head_; id != kNone; id = blocks_[static_cast<size_t>(id)].next) {
        order.push_back(id);
    }
    return order;
}

}  // namespace ovllm::kv
