#include <gtest/gtest.h>

#include "kv_cache/block_pool.hpp"
#include "util/error.hpp"

namespace ovllm::kv {
namespace {

using Ids = std::vector<BlockId>;

void release_last_first(BlockPool& pool, const Ids& ids) {
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        pool.release(*it);
    }
}

TEST(BlockPool, StartsWithEveryBlockFreeInIdOrder) {
    const BlockPool pool(5);
    EXPECT_EQ(pool.num_blocks(), 5);
    EXPECT_EQ(pool.num_free_blocks(), 5);
    EXPECT_EQ(pool.free_queue(), (Ids{0, 1, 2, 3, 4}));
}

TEST(BlockPool, AllocatesFromHeadAndFreesCachedBlocksToTailInExactLruOrder) {
    BlockPool pool(10);
    Ids a, b, c;
    ASSERT_TRUE(pool.allocate(3, a));
    ASSERT_TRUE(pool.allocate(2, b));
    EXPECT_EQ(a, (Ids{0, 1, 2}));
    EXPECT_EQ(b, (Ids{3, 4}));
    EXPECT_EQ(pool.free_queue(), (Ids{5, 6, 7, 8, 9}));
    for (const BlockId id : {0, 1, 2, 3, 4}) ASSERT_TRUE(pool.cache(id, 0x100u + BlockHash(id)));

    // A sequence frees last block first, so its tail is evicted before its prefix.
    release_last_first(pool, a);
    EXPECT_EQ(pool.free_queue(), (Ids{5, 6, 7, 8, 9, 2, 1, 0}));
    release_last_first(pool, b);
    EXPECT_EQ(pool.free_queue(), (Ids{5, 6, 7, 8, 9, 2, 1, 0, 4, 3}));

    ASSERT_TRUE(pool.allocate(7, c));
    EXPECT_EQ(c, (Ids{5, 6, 7, 8, 9, 2, 1}));
    EXPECT_EQ(pool.free_queue(), (Ids{0, 4, 3}));
    EXPECT_EQ(pool.num_free_blocks(), 3);
}

TEST(BlockPool, BlocksWithoutHashAreReusedFirst) {
    BlockPool pool(6);
    Ids a, b;
    ASSERT_TRUE(pool.allocate(3, a));
    ASSERT_TRUE(pool.cache(0, 0xAAu));  // block 0 holds a cached prefix; 1 and 2 do not
    release_last_first(pool, a);
    // 2 then 1 go to the head, 0 to the tail: the next allocation reuses 1 and 2 at once,
    // and the cached block stays until every fresh block is used.
    EXPECT_EQ(pool.free_queue(), (Ids{1, 2, 3, 4, 5, 0}));
    ASSERT_TRUE(pool.allocate(2, b));
    EXPECT_EQ(b, (Ids{1, 2}));
    EXPECT_EQ(pool.lookup(0xAAu), std::optional<BlockId>(0));
}

TEST(BlockPool, ReleaseWithoutKeepingTheHashForgetsItAtRefCountZero) {
    BlockPool pool(4);
    Ids a;
    ASSERT_TRUE(pool.allocate(2, a));
    ASSERT_TRUE(pool.cache(0, 0xAAu));
    ASSERT_TRUE(pool.cache(1, 0xBBu));
    pool.touch(Ids{0});  // block 0 is shared by a second holder

    pool.release(1, /*keep_hash=*/false);  // last reference: forgets 0xBB, reused first
    EXPECT_EQ(pool.lookup(0xBBu), std::nullopt);
    EXPECT_EQ(pool.free_queue(), (Ids{1, 2, 3}));
    pool.release(0, /*keep_hash=*/false);  // still held: keeps 0xAA
    EXPECT_EQ(pool.lookup(0xAAu), std::optional<BlockId>(0));
    pool.release(0, /*keep_hash=*/false);
    EXPECT_EQ(pool.lookup(0xAAu), std::nullopt);
    EXPECT_EQ(pool.num_cached_blocks(), 0);
    EXPECT_EQ(pool.free_queue(), (Ids{0, 1, 2, 3}));
}

TEST(BlockPool, RefusesWhatDoesNotFitAndTakesNothing) {
    BlockPool pool(4);
    Ids a;
    ASSERT_TRUE(pool.allocate(3, a));
    Ids b;
    EXPECT_FALSE(pool.allocate(2, b));
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(pool.num_free_blocks(), 1);
    EXPECT_EQ(pool.free_queue(), (Ids{3}));
}

TEST(BlockPool, TouchSharesABlockAndFreesItOnlyAtRefCountZero) {
    BlockPool pool(4);
    Ids a;
    ASSERT_TRUE(pool.allocate(2, a));
    pool.touch(a);
    EXPECT_EQ(pool.ref_count(0), 2);
    EXPECT_EQ(pool.ref_count(1), 2);
    release_last_first(pool, a);
    EXPECT_EQ(pool.ref_count(0), 1);
    EXPECT_EQ(pool.free_queue(), (Ids{2, 3}));
    release_last_first(pool, a);
    EXPECT_EQ(pool.ref_count(0), 0);
    EXPECT_EQ(pool.free_queue(), (Ids{0, 1, 2, 3}));  // no hashes: back to the head
    EXPECT_THROW(pool.release(0), Error);
}

TEST(BlockPool, FreedBlockKeepsItsHashUntilReallocated) {
    BlockPool pool(3);
    Ids a;
    ASSERT_TRUE(pool.allocate(2, a));
    EXPECT_TRUE(pool.cache(0, 0xAAu));
    EXPECT_TRUE(pool.cache(1, 0xBBu));
    release_last_first(pool, a);
    EXPECT_EQ(pool.free_queue(), (Ids{2, 1, 0}));
    EXPECT_EQ(pool.lookup(0xAAu), std::optional<BlockId>(0));
    EXPECT_EQ(pool.lookup(0xBBu), std::optional<BlockId>(1));
    EXPECT_EQ(pool.num_cached_blocks(), 2);

    // A prefix hit on a free cached block takes it out of the free queue, hash intact.
    const Ids hit{0};
    pool.touch(hit);
    EXPECT_EQ(pool.ref_count(0), 1);
    EXPECT_EQ(pool.free_queue(), (Ids{2, 1}));
    EXPECT_EQ(pool.block_hash(0), std::optional<BlockHash>(0xAAu));

    // Reallocating the free cached block 1 evicts its hash.
    Ids b;
    ASSERT_TRUE(pool.allocate(2, b));
    EXPECT_EQ(b, (Ids{2, 1}));
    EXPECT_EQ(pool.lookup(0xBBu), std::nullopt);
    EXPECT_EQ(pool.block_hash(1), std::nullopt);
    EXPECT_EQ(pool.lookup(0xAAu), std::optional<BlockId>(0));
    EXPECT_EQ(pool.num_cached_blocks(), 1);
}

TEST(BlockPool, OneBlockPerHash) {
    BlockPool pool(3);
    Ids a;
    ASSERT_TRUE(pool.allocate(2, a));
    EXPECT_TRUE(pool.cache(0, 7));
    EXPECT_FALSE(pool.cache(1, 7));  // same content computed twice: the first block stays
    EXPECT_FALSE(pool.cache(0, 8));  // a block's hash never changes while it lives
    EXPECT_EQ(pool.lookup(7), std::optional<BlockId>(0));
    EXPECT_EQ(pool.block_hash(1), std::nullopt);
}

TEST(BlockPool, RejectsBadIds) {
    BlockPool pool(2);
    EXPECT_THROW(pool.release(2), Error);
    EXPECT_THROW(pool.ref_count(-1), Error);
    EXPECT_THROW(BlockPool(0), Error);
}

}  // namespace
}  // namespace ovllm::kv
