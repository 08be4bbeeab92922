#include "kv_cache/kv_cache_manager.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace ovllm::kv {

KVCacheManager::KVCacheManager(int num_blocks, int block_size)
    : block_size_(block_size), pool_(num_blocks) {
    if (block_size <= 0) {
        throw_error("kv cache: block_size must be positive, got {}", block_size);
    }
    seqs_.reserve(static_cast<size_t>(num_blocks));
}

int KVCacheManager::num_blocks_for(int num_tokens) const {
    return (num_tokens + block_size_ - 1) / block_size_;
}

PrefixHit KVCacheManager::get_computed_blocks(std::span<const TokenId> token_ids,
                                              uint64_t extra_key) const {
    PrefixHit hit;
    if (token_ids.empty()) {
        return hit;
    }
    const size_t max_blocks = (token_ids.size() - 1) / static_cast<size_t>(block_size_);
    const auto block_size = static_cast<size_t>(block_size_);
    BlockHash parent = root_hash(extra_key);
    for (size_t i = 0; i < max_blocks; ++i) {
        parent = hash_block(parent, token_ids.subspan(i * block_size, block_size));
        const std::optional<BlockId> block = pool_.lookup(parent);
        if (!block) {
            break;
        }
        hit.blocks.push_back(*block);
    }
    hit.num_tokens = static_cast<int>(hit.blocks.size()) * block_size_;
    return hit;
}

std::optional<std::span<const BlockId>> KVCacheManager::allocate_slots(SeqId seq,
                                                                       const SlotRequest& request,
                                                                       const PrefixHit& hit) {
    const auto it = seqs_.find(seq);
    const bool is_new = it == seqs_.end();
    if (!hit.blocks.empty() && (!is_new || request.num_computed_tokens != 0)) {
        throw_error("kv cache: sequence {} may take a prefix hit only on its first allocation",
                    seq);
    }
    const int held = is_new ? 0 : static_cast<int>(it->second.blocks.size());
    const int num_tokens = request.num_computed_tokens + hit.num_tokens + request.num_new_tokens;
    if (num_tokens > static_cast<int>(request.token_ids.size()) || request.num_new_tokens < 0 ||
        request.num_lookahead_tokens < 0) {
        throw_error("kv cache: sequence {} asks slots for {} tokens but knows only {}", seq,
                    num_tokens, request.token_ids.size());
    }
    const int num_hit = static_cast<int>(hit.blocks.size());
    const int num_to_allocate =
        std::max(0, num_blocks_for(num_tokens + request.num_lookahead_tokens) - held - num_hit);
    // A hit block with no references sits in the free queue; touching it takes it out.
    const auto evictable_hits = std::count_if(hit.blocks.begin(), hit.blocks.end(),
                                              [&](BlockId b) { return pool_.ref_count(b) == 0; });
    if (num_to_allocate > pool_.num_free_blocks() - static_cast<int>(evictable_hits)) {
        return std::nullopt;
    }

    SeqBlocks& blocks = is_new ? seqs_[seq] : it->second;
    if (is_new) {
        blocks.root = root_hash(request.extra_key);
        prefix_query_tokens_ += request.token_ids.size();
        prefix_hit_tokens_ += static_cast<uint64_t>(hit.num_tokens);
    }
    pool_.touch(hit.blocks);
    for (const BlockId b : hit.blocks) {
        blocks.blocks.push_back(b);
        blocks.hashes.push_back(*pool_.block_hash(b));
    }
    const size_t first_new = blocks.blocks.size();
    pool_.allocate(num_to_allocate, blocks.blocks);
    const int num_filled = std::min(num_tokens, static_cast<int>(request.token_ids.size()));
    cache_full_blocks(blocks, request.token_ids, num_filled);
    return std::span<const BlockId>(blocks.blocks).subspan(first_new);
}

void KVCacheManager::cache_full_blocks(SeqBlocks& seq, std::span<const TokenId> token_ids,
                                       int num_tokens) {
    const auto block_size = static_cast<size_t>(block_size_);
    const size_t num_full = static_cast<size_t>(num_tokens) / block_size;
    std::optional<BlockStored> run;  // the registered blocks since the last unregistered one
    const auto flush = [&] {
        if (run) {
            pool_.record(std::move(*run));
            run.reset();
        }
    };
    for (size_t i = seq.hashes.size(); i < num_full; ++i) {
        const BlockHash parent = i == 0 ? seq.root : seq.hashes[i - 1];
        const std::span<const TokenId> tokens = token_ids.subspan(i * block_size, block_size);
        const BlockHash hash = hash_block(parent, tokens);
        seq.hashes.push_back(hash);
        // false: the same content is cached elsewhere, and was reported when it was.
        if (!pool_.cache(seq.blocks[i], hash)) {
            flush();
            continue;
        }
        if (!pool_.recording_events()) continue;
        if (!run) {
            run.emplace();
            run->block_size = block_size_;
            if (i > 0) run->parent_block_hash = parent;
        }
        run->block_hashes.push_back(hash);
        run->token_ids.insert(run->token_ids.end(), tokens.begin(), tokens.end());
    }
    flush();
}

void KVCacheManager::free(SeqId seq, bool keep_cached) {
    const auto it = seqs_.find(seq);
    if (it == seqs_.end()) {
        return;
    }
    const std::vector<BlockId>& blocks = it->second.blocks;
    for (auto b = blocks.rbegin(); b != blocks.rend(); ++b) {
        pool_.release(*b, keep_cached);
    }
    seqs_.erase(it);
}

std::span<const BlockId> KVCacheManager::block_table(SeqId seq) const {
    const auto it = seqs_.find(seq);
    if (it == seqs_.end()) {
        return {};
    }
    return it->second.blocks;
}

KVCacheStats KVCacheManager::stats() const {
    KVCacheStats s;
    s.num_blocks = pool_.num_blocks();
    s.num_free_blocks = pool_.num_free_blocks();
    s.usage = 1.0 - static_cast<double>(s.num_free_blocks) / static_cast<double>(s.num_blocks);
    s.prefix_query_tokens = prefix_query_tokens_;
    s.prefix_hit_tokens = prefix_hit_tokens_;
    return s;
}

}  // namespace ovllm::kv
