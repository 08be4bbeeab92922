// The prefix-cache events the block pool and cache manager record: exact sequences for
// admission, sharing, decode growth, eviction and a content duplicate.
#include <gtest/gtest.h>

#include <numeric>

#include "kv_cache/kv_cache_manager.hpp"

namespace ovllm::kv {
namespace {

using Tokens = std::vector<TokenId>;
using Events = std::vector<KVCacheEvent>;

Tokens iota_tokens(int count, TokenId first) {
    Tokens tokens(static_cast<size_t>(count));
    std::iota(tokens.begin(), tokens.end(), first);
    return tokens;
}

Tokens slice(const Tokens& tokens, int begin, int end) {
    return {tokens.begin() + begin, tokens.begin() + end};
}

// The chained hashes of the first `count` full blocks of `tokens` under extra key 0.
std::vector<BlockHash> chain(const Tokens& tokens, int block_size, int count) {
    std::vector<BlockHash> hashes;
    BlockHash parent = root_hash(0);
    for (int i = 0; i < count; ++i) {
        parent = hash_block(parent, slice(tokens, i * block_size, (i + 1) * block_size));
        hashes.push_back(parent);
    }
    return hashes;
}

void admit(KVCacheManager& kv, SeqId seq, const Tokens& tokens) {
    const PrefixHit hit = kv.get_computed_blocks(tokens, 0);
    const SlotRequest request{tokens, 0, static_cast<int>(tokens.size()) - hit.num_tokens, 0};
    ASSERT_TRUE(kv.allocate_slots(seq, request, hit).has_value());
}

TEST(KVEvents, NothingIsRecordedUntilAskedAndStartingReportsAnEmptyCache) {
    KVCacheManager kv(8, 4);
    admit(kv, 1, iota_tokens(9, 100));
    EXPECT_TRUE(kv.take_events().empty());
    kv.record_events(true);
    EXPECT_EQ(kv.take_events(), (Events{AllBlocksCleared{}}));
    EXPECT_TRUE(kv.take_events().empty());  // taking empties the log
}

TEST(KVEvents, ResetIsRefusedWhileBlocksAreHeldThenForgetsEveryHashWithOneEvent) {
    KVCacheManager kv(8, 4);
    kv.record_events(true);
    kv.take_events();
    const Tokens a = iota_tokens(10, 100);
    admit(kv, 1, a);
    kv.take_events();
    EXPECT_FALSE(kv.reset_prefix_cache());  // sequence 1 still holds its blocks
    EXPECT_TRUE(kv.take_events().empty());
    EXPECT_EQ(kv.get_computed_blocks(a, 0).num_tokens, 8);

    kv.free(1);
    EXPECT_EQ(kv.pool().num_cached_blocks(), 2);
    EXPECT_TRUE(kv.reset_prefix_cache());
    EXPECT_EQ(kv.take_events(), (Events{AllBlocksCleared{}}));
    EXPECT_EQ(kv.pool().num_cached_blocks(), 0);
    EXPECT_EQ(kv.get_computed_blocks(a, 0).num_tokens, 0);  // nothing hits any more
    EXPECT_EQ(kv.pool().num_free_blocks(), 8);

    admit(kv, 2, a);  // stored again under the same hashes
    EXPECT_EQ(kv.take_events(),
              (Events{BlockStored{chain(a, 4, 2), std::nullopt, slice(a, 0, 8), 4}}));
}

TEST(KVEvents, AdmissionStoresItsFullBlocksAsOneChainAndAHitStoresNothing) {
    KVCacheManager kv(8, 4);
    kv.record_events(true);
    kv.take_events();
    const Tokens a = iota_tokens(10, 100);  // blocks [100..103] [104..107] and a partial tail
    admit(kv, 1, a);
    const std::vector<BlockHash> h = chain(a, 4, 2);
    EXPECT_EQ(kv.take_events(), (Events{BlockStored{h, std::nullopt, slice(a, 0, 8), 4}}));

    admit(kv, 2, a);  // a prefix hit on both full blocks: nothing new becomes findable
    EXPECT_TRUE(kv.take_events().empty());
}

TEST(KVEvents, DecodeThatFillsABlockStoresItWithItsParent) {
    KVCacheManager kv(8, 4);
    kv.record_events(true);
    kv.take_events();
    Tokens a = iota_tokens(6, 100);
    admit(kv, 1, a);
    kv.take_events();
    // Two decode steps: token 7 (position 6) leaves block 1 partial, token 8 fills it.
    for (const TokenId next : {TokenId{500}, TokenId{501}}) {
        const int computed = static_cast<int>(a.size());
        a.push_back(next);
        ASSERT_TRUE(kv.allocate_slots(1, SlotRequest{a, computed, 1, 0}).has_value());
    }
    const std::vector<BlockHash> h = chain(a, 4, 2);
    EXPECT_EQ(kv.take_events(), (Events{BlockStored{{h[1]}, h[0], slice(a, 4, 8), 4}}));
}

TEST(KVEvents, EvictionReportsRemovedHashesBeforeTheBlocksThatReplaceThem) {
    KVCacheManager kv(3, 4);  // room for exactly one 9-token sequence
    kv.record_events(true);
    kv.take_events();
    const Tokens a = iota_tokens(9, 100);
    admit(kv, 1, a);
    kv.free(1);  // freed blocks keep their hashes: still findable, no event
    const std::vector<BlockHash> ha = chain(a, 4, 2);
    EXPECT_EQ(kv.take_events(), (Events{BlockStored{ha, std::nullopt, slice(a, 0, 8), 4}}));

    // Another prompt needs all three blocks: the partial tail goes first (no hash), then
    // block 1's content and block 0's are evicted (released last-first), in that order.
    const Tokens b = iota_tokens(9, 900);
    admit(kv, 2, b);
    const std::vector<BlockHash> hb = chain(b, 4, 2);
    EXPECT_EQ(kv.take_events(), (Events{BlockRemoved{{ha[1], ha[0]}},
                                        BlockStored{hb, std::nullopt, slice(b, 0, 8), 4}}));
}

TEST(KVEvents, AContentDuplicateSplitsTheRunAndKeepsParentsChained) {
    KVCacheManager kv(10, 4);
    kv.record_events(true);
    kv.take_events();
    const Tokens a = iota_tokens(13, 100);
    // Sequence 1 computes only its first block this step (a chunked prefill).
    ASSERT_TRUE(kv.allocate_slots(1, SlotRequest{a, 0, 4, 0}).has_value());
    const std::vector<BlockHash> h = chain(a, 4, 3);
    EXPECT_EQ(kv.take_events(), (Events{BlockStored{{h[0]}, std::nullopt, slice(a, 0, 4), 4}}));
    // Sequence 2 takes no hit (as a request admitted before the first one ran would) and
    // fills three blocks: block 0's content is already registered, so only 1 and 2 are new,
    // reported as one run whose parent is the duplicate's hash.
    ASSERT_TRUE(kv.allocate_slots(2, SlotRequest{a, 0, 12, 0}).has_value());
    EXPECT_EQ(kv.take_events(), (Events{BlockStored{{h[1], h[2]}, h[0], slice(a, 4, 12), 4}}));
}

}  // namespace
}  // namespace ovllm::kv
