#include <gtest/gtest.h>

#include <numeric>

#include "kv_cache/kv_cache_manager.hpp"
#include "util/error.hpp"

namespace ovllm::kv {
namespace {

using Ids = std::vector<BlockId>;
using Tokens = std::vector<TokenId>;

Tokens iota_tokens(int count, TokenId first) {
    Tokens tokens(static_cast<size_t>(count));
    std::iota(tokens.begin(), tokens.end(), first);
    return tokens;
}

Ids to_ids(std::span<const BlockId> span) {
    return {span.begin(), span.end()};
}

// Allocates a whole prompt for a fresh sequence, taking its prefix hit.
Ids admit(KVCacheManager& kv, SeqId seq, const Tokens& tokens, uint64_t key = 0) {
    const PrefixHit hit = kv.get_computed_blocks(tokens, key);
    const SlotRequest request{tokens, 0, static_cast<int>(tokens.size()) - hit.num_tokens, key};
    const auto fresh = kv.allocate_slots(seq, request, hit);
    EXPECT_TRUE(fresh.has_value());
    return to_ids(kv.block_table(seq));
}

TEST(BlockHash, ChainsParentsAndSeparatesSingleTokenChanges) {
    const Tokens a{1, 2, 3, 4};
    const Tokens b{1, 2, 3, 5};
    const BlockHash root = root_hash(0);
    EXPECT_EQ(hash_block(root, a), hash_block(root_hash(0), Tokens{1, 2, 3, 4}));
    EXPECT_NE(hash_block(root, a), hash_block(root, b));
    EXPECT_NE(hash_block(root, a), hash_block(hash_block(root, b), a));
    EXPECT_NE(root_hash(0), root_hash(1));
    EXPECT_NE(combine_keys(1, 2), combine_keys(2, 1));
}

TEST(KVCacheManager, PrefixHitsStopAtDivergenceAndBeforeTheLastToken) {
    KVCacheManager kv(10, 4);
    const Tokens a = iota_tokens(10, 100);
    EXPECT_EQ(admit(kv, 1, a), (Ids{0, 1, 2}));  // blocks 0 and 1 are full and cached

    EXPECT_EQ(kv.get_computed_blocks(a, 0).blocks, (Ids{0, 1}));
    EXPECT_EQ(kv.get_computed_blocks(a, 0).num_tokens, 8);

    Tokens diverged = a;
    diverged[5] = 7;  // second block differs
    EXPECT_EQ(kv.get_computed_blocks(diverged, 0).blocks, (Ids{0}));
    diverged[0] = 7;  // first block differs, so nothing after it can match either
    EXPECT_TRUE(kv.get_computed_blocks(diverged, 0).blocks.empty());

    // A prompt that is exactly two cached blocks must still compute its last token.
    const Tokens exact(a.begin(), a.begin() + 8);
    EXPECT_EQ(kv.get_computed_blocks(exact, 0).blocks, (Ids{0}));
    const Tokens one_more(a.begin(), a.begin() + 9);
    EXPECT_EQ(kv.get_computed_blocks(one_more, 0).blocks, (Ids{0, 1}));

    // Another extra key never hits.
    EXPECT_TRUE(kv.get_computed_blocks(a, 42).blocks.empty());
}

TEST(KVCacheManager, SharesFullBlocksAndReturnsEveryReference) {
    KVCacheManager kv(10, 4);
    const Tokens a = iota_tokens(10, 100);
    EXPECT_EQ(admit(kv, 1, a), (Ids{0, 1, 2}));
    EXPECT_EQ(admit(kv, 2, a), (Ids{0, 1, 3}));  // shares the full blocks, computes its own tail
    EXPECT_EQ(kv.pool().ref_count(0), 2);
    EXPECT_EQ(kv.pool().ref_count(1), 2);
    EXPECT_EQ(kv.pool().ref_count(2), 1);
    EXPECT_EQ(kv.pool().ref_count(3), 1);
    EXPECT_EQ(kv.stats().num_free_blocks, 6);

    // Partial tail blocks carry no hash and go to the head; full ones wait at the tail.
    kv.free(1);
    EXPECT_EQ(kv.pool().free_queue(), (Ids{2, 4, 5, 6, 7, 8, 9}));
    kv.free(2);
    EXPECT_EQ(kv.pool().free_queue(), (Ids{3, 2, 4, 5, 6, 7, 8, 9, 1, 0}));
    for (BlockId b = 0; b < 10; ++b) {
        EXPECT_EQ(kv.pool().ref_count(b), 0) << b;
    }
    EXPECT_EQ(kv.stats().num_free_blocks, 10);
    EXPECT_EQ(kv.stats().prefix_query_tokens, 20u);
    EXPECT_EQ(kv.stats().prefix_hit_tokens, 8u);

    // Both full blocks stay cached while free: a third sequence hits them.
    EXPECT_EQ(admit(kv, 3, a), (Ids{0, 1, 3}));
    EXPECT_EQ(kv.pool().free_queue(), (Ids{2, 4, 5, 6, 7, 8, 9}));
}

TEST(KVCacheManager, ReusingACachedFreeBlockEvictsItsHash) {
    KVCacheManager kv(10, 4);
    const Tokens a = iota_tokens(10, 100);
    admit(kv, 1, a);
    kv.free(1);
    EXPECT_EQ(kv.pool().free_queue(), (Ids{2, 3, 4, 5, 6, 7, 8, 9, 1, 0}));

    // 36 tokens take nine blocks from the head: block 1 (a's second block) is reused.
    const Tokens b = iota_tokens(36, 500);
    EXPECT_EQ(admit(kv, 2, b), (Ids{2, 3, 4, 5, 6, 7, 8, 9, 1}));
    EXPECT_EQ(kv.get_computed_blocks(a, 0).blocks, (Ids{0}));
    // b's nine full blocks are cached and queue up behind block 0, last block first.
    kv.free(2);
    EXPECT_EQ(kv.pool().free_queue(), (Ids{0, 1, 9, 8, 7, 6, 5, 4, 3, 2}));
    EXPECT_EQ(admit(kv, 3, a), (Ids{0, 1, 9}));
    EXPECT_EQ(kv.pool().ref_count(1), 1);
}

TEST(KVCacheManager, FreeWithoutKeepingCachedBlocksForgetsThem) {
    KVCacheManager kv(10, 4);
    const Tokens a = iota_tokens(10, 100);
    EXPECT_EQ(admit(kv, 1, a), (Ids{0, 1, 2}));
    kv.free(1, /*keep_cached=*/false);
    EXPECT_TRUE(kv.get_computed_blocks(a, 0).blocks.empty());
    EXPECT_EQ(kv.pool().num_cached_blocks(), 0);
    // Its blocks are the first reused, so a steady load keeps touching the same memory.
    EXPECT_EQ(kv.pool().free_queue(), (Ids{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(kv.stats().num_free_blocks, 10);
}

TEST(KVCacheManager, RefusesWithoutPartialAllocation) {
    KVCacheManager kv(4, 4);
    admit(kv, 1, iota_tokens(12, 0));
    const Tokens b = iota_tokens(8, 100);
    EXPECT_EQ(kv.allocate_slots(2, SlotRequest{b, 0, 8, 0}), std::nullopt);
    EXPECT_TRUE(kv.block_table(2).empty());
    EXPECT_EQ(kv.stats().num_free_blocks, 1);
    EXPECT_DOUBLE_EQ(kv.stats().usage, 0.75);
}

TEST(KVCacheManager, FreeCachedHitsCountAgainstTheFreeBlocks) {
    KVCacheManager kv(3, 4);
    const Tokens a = iota_tokens(9, 0);
    admit(kv, 1, a);
    kv.free(1);
    EXPECT_EQ(kv.pool().free_queue(), (Ids{2, 1, 0}));

    Tokens b = iota_tokens(13, 0);  // hits a's two full blocks, then needs two more blocks
    PrefixHit hit = kv.get_computed_blocks(b, 0);
    ASSERT_EQ(hit.blocks, (Ids{0, 1}));
    EXPECT_EQ(kv.allocate_slots(2, SlotRequest{b, 0, 5, 0}, hit), std::nullopt);
    EXPECT_EQ(kv.pool().free_queue(), (Ids{2, 1, 0}));

    b.resize(10);  // needs only one block beyond the hit
    hit = kv.get_computed_blocks(b, 0);
    const auto fresh = kv.allocate_slots(2, SlotRequest{b, 0, 2, 0}, hit);
    ASSERT_TRUE(fresh.has_value());
    EXPECT_EQ(to_ids(*fresh), (Ids{2}));
    EXPECT_EQ(to_ids(kv.block_table(2)), (Ids{0, 1, 2}));
    EXPECT_EQ(kv.stats().num_free_blocks, 0);
}

TEST(KVCacheManager, CachesBlocksAsChunksAndDecodesFillThem) {
    KVCacheManager kv(8, 4);
    Tokens tokens = iota_tokens(10, 100);
    auto fresh = kv.allocate_slots(1, SlotRequest{tokens, 0, 6, 9});
    ASSERT_TRUE(fresh);
    EXPECT_EQ(to_ids(*fresh), (Ids{0, 1}));
    const BlockHash h0 = hash_block(root_hash(9), std::span(tokens).subspan(0, 4));
    EXPECT_EQ(kv.pool().block_hash(0), std::optional<BlockHash>(h0));
    EXPECT_EQ(kv.pool().block_hash(1), std::nullopt);  // holds 2 of 4 tokens

    fresh = kv.allocate_slots(1, SlotRequest{tokens, 6, 4, 9});
    ASSERT_TRUE(fresh);
    EXPECT_EQ(to_ids(*fresh), (Ids{2}));
    const BlockHash h1 = hash_block(h0, std::span(tokens).subspan(4, 4));
    EXPECT_EQ(kv.pool().block_hash(1), std::optional<BlockHash>(h1));

    tokens.push_back(7);  // sampled token 11 is fed next step
    fresh = kv.allocate_slots(1, SlotRequest{tokens, 10, 1, 9});
    ASSERT_TRUE(fresh);
    EXPECT_TRUE(fresh->empty());
    EXPECT_EQ(kv.pool().block_hash(2), std::nullopt);
    tokens.push_back(8);  // token 12 fills block 2
    fresh = kv.allocate_slots(1, SlotRequest{tokens, 11, 1, 9});
    ASSERT_TRUE(fresh);
    const BlockHash h2 = hash_block(h1, std::span(tokens).subspan(8, 4));
    EXPECT_EQ(kv.pool().block_hash(2), std::optional<BlockHash>(h2));
    EXPECT_EQ(kv.get_computed_blocks(Tokens(tokens.begin(), tokens.end()), 9).blocks,
              (Ids{0, 1}));  // 12 tokens: the third block would leave nothing to compute
    tokens.push_back(1);
    EXPECT_EQ(kv.get_computed_blocks(tokens, 9).blocks, (Ids{0, 1, 2}));
}

TEST(KVCacheManager, RejectsMisuse) {
    KVCacheManager kv(8, 4);
    const Tokens a = iota_tokens(10, 0);
    EXPECT_THROW(kv.allocate_slots(1, SlotRequest{a, 0, 11, 0}), Error);
    admit(kv, 1, a);
    const PrefixHit hit = kv.get_computed_blocks(a, 0);
    EXPECT_THROW(kv.allocate_slots(1, SlotRequest{a, 0, 2, 0}, hit), Error);
    EXPECT_THROW(KVCacheManager(8, 0), Error);
    kv.free(99);  // unknown: nothing to release
    EXPECT_EQ(kv.stats().num_free_blocks, 5);
}

}  // namespace
}  // namespace ovllm::kv
