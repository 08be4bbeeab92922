#include <gtest/gtest.h>

#include "scheduler_test_util.hpp"

namespace ovllm::sched::test {
namespace {

using Entries = std::vector<Entry>;

// Three 7-token prompts in blocks of 4 fill 6 of `num_blocks`; every sequence then decodes
// until its ninth token needs a third block.
void fill_and_decode(Scheduler& scheduler) {
    for (SeqId id = 1; id <= 3; ++id) {
        scheduler.add_sequence(spec(id, iota_tokens(7, static_cast<TokenId>(id) * 100)));
    }
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 7, 0, true, 0}, {2, 7, 0, true, 0}, {3, 7, 0, true, 0}}));
    EXPECT_EQ(table(scheduler, 1), (Ids{0, 1}));
    EXPECT_EQ(table(scheduler, 2), (Ids{2, 3}));
    EXPECT_EQ(table(scheduler, 3), (Ids{4, 5}));
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 1, 7, true, 0}, {2, 1, 7, true, 0}, {3, 1, 7, true, 0}}));
}

class Preemption : public ::testing::TestWithParam<bool> {};

TEST_P(Preemption, NewestRunningSequenceIsTheVictimAndResumesOnItsCachedBlocks) {
    const bool prefix_caching = GetParam();
    Scheduler scheduler(make_config(4, 7, 100, 8, 16, prefix_caching));
    fill_and_decode(scheduler);
    scheduler.add_sequence(spec(4, iota_tokens(7, 400)));

    // 1 takes the last free block; 2 needs one too, so 3 (the newest) is preempted, freeing
    // its blocks last-first, and 2 gets 3's second block. Nobody is admitted in this step.
    const SchedulerOutput& out = scheduler.schedule();
    EXPECT_EQ(entries(out), (Entries{{1, 1, 8, true, 0}, {2, 1, 8, true, 0}}));
    EXPECT_EQ(out.preempted, (std::vector<SeqId>{3}));
    EXPECT_EQ(table(scheduler, 1), (Ids{0, 1, 6}));
    EXPECT_EQ(table(scheduler, 2), (Ids{2, 3, 5}));
    EXPECT_TRUE(table(scheduler, 3).empty());
    EXPECT_EQ(scheduler.num_computed_tokens(3), 0);
    EXPECT_EQ(scheduler.block_pool().free_queue(), (Ids{4}));
    EXPECT_EQ(scheduler.num_waiting(), 2u);
    scheduler.append_token(1, 7);
    scheduler.append_token(2, 7);

    // 3 hits its surviving first block but still needs two more: it waits, and 4 behind it.
    EXPECT_EQ(step(scheduler), (Entries{{1, 1, 9, true, 0}, {2, 1, 9, true, 0}}));

    scheduler.finish(1);  // frees 6, 1, 0
    const SchedulerOutput& resumed = scheduler.schedule();
    EXPECT_EQ(entries(resumed), (Entries{{2, 1, 10, true, 0}, {3, 5, 4, true, 4}}));
    // The recomputed tokens: the prompt after the hit, then the two tokens sampled before.
    const auto recomputed = resumed.sequences[1].token_ids;
    EXPECT_EQ(Tokens(recomputed.begin(), recomputed.end()), (Tokens{304, 305, 306, 7, 7}));
    // 1's freed blocks: with prefix caching its full blocks 0 and 1 stay cached at the tail
    // and the partial block 6 is reused first; without it all three forget their hashes
    // and are reused first, last released (0) at the head.
    EXPECT_EQ(table(scheduler, 3), prefix_caching ? (Ids{4, 6, 1}) : (Ids{4, 0, 1}));
    EXPECT_EQ(scheduler.num_waiting(), 1u);  // 4 needs two blocks; one is free

    scheduler.finish(2);
    scheduler.finish(3);
    EXPECT_TRUE(scheduler.abort(4));
    expect_all_free(scheduler);
}

TEST_P(Preemption, ASequenceThatIsItselfTheNewestPreemptsItself) {
    Scheduler scheduler(make_config(4, 8, 100, 8, 16, GetParam()));
    fill_and_decode(scheduler);
    const SchedulerOutput& out = scheduler.schedule();
    EXPECT_EQ(entries(out), (Entries{{1, 1, 8, true, 0}, {2, 1, 8, true, 0}}));
    EXPECT_EQ(out.preempted, (std::vector<SeqId>{3}));
    EXPECT_EQ(table(scheduler, 1), (Ids{0, 1, 6}));
    EXPECT_EQ(table(scheduler, 2), (Ids{2, 3, 7}));
    EXPECT_EQ(scheduler.block_pool().free_queue(), (Ids{5, 4}));
    EXPECT_EQ(scheduler.num_running(), 2u);
    EXPECT_EQ(scheduler.num_waiting(), 1u);
    scheduler.abort(1);
    scheduler.abort(2);
    scheduler.abort(3);
    expect_all_free(scheduler);
}

INSTANTIATE_TEST_SUITE_P(PrefixCaching, Preemption, ::testing::Bool());

TEST(PrefixSharing, ChunkedPrefillResumesAfterAPrefixHit) {
    Scheduler scheduler(make_config(16, 64, 64, 8, 1024, true));
    const Tokens a = iota_tokens(150, 0);
    scheduler.add_sequence(spec(1, a));
    EXPECT_EQ(step(scheduler), (Entries{{1, 64, 0, false, 0}}));
    EXPECT_EQ(step(scheduler), (Entries{{1, 64, 64, false, 0}}));
    EXPECT_EQ(step(scheduler), (Entries{{1, 22, 128, true, 0}}));

    Tokens b = a;  // the same 150 tokens, then 150 of its own
    const Tokens tail = iota_tokens(150, 10000);
    b.insert(b.end(), tail.begin(), tail.end());
    scheduler.add_sequence(spec(2, b));
    // Nine full blocks (144 tokens) are cached; the rest is chunked under the budget.
    EXPECT_EQ(step(scheduler), (Entries{{1, 1, 150, true, 0}, {2, 63, 144, false, 144}}));
    EXPECT_EQ(step(scheduler), (Entries{{1, 1, 151, true, 0}, {2, 63, 207, false, 0}}));
    EXPECT_EQ(step(scheduler), (Entries{{1, 1, 152, true, 0}, {2, 30, 270, true, 0}}));

    const Ids table1 = table(scheduler, 1);
    const Ids table2 = table(scheduler, 2);
    ASSERT_EQ(table2.size(), 19u);  // 301 tokens with a slot: 300 + the one being fed
    EXPECT_EQ(Ids(table2.begin(), table2.begin() + 9), Ids(table1.begin(), table1.begin() + 9));
    EXPECT_NE(table2[9], table1[9]);  // block 9 holds tokens 144..159, which differ
    EXPECT_EQ(scheduler.block_pool().ref_count(table1[0]), 2);
    EXPECT_EQ(scheduler.kv_stats().prefix_query_tokens, 450u);
    EXPECT_EQ(scheduler.kv_stats().prefix_hit_tokens, 144u);

    scheduler.finish(1);
    scheduler.finish(2);
    expect_all_free(scheduler);
}

class Siblings : public ::testing::TestWithParam<bool> {};

TEST_P(Siblings, ShareThePromptsFullBlocksInTheirFirstStep) {
    const bool prefix_caching = GetParam();
    Scheduler scheduler(make_config(16, 32, 1000, 8, 256, prefix_caching));
    const Tokens prompt = iota_tokens(40, 0);
    for (SeqId id = 1; id <= 3; ++id) {
        scheduler.add_sequence(spec(id, prompt, /*group=*/7));
    }
    const SchedulerOutput& out = scheduler.schedule();
    EXPECT_EQ(entries(out),
              (Entries{{1, 40, 0, true, 0}, {2, 8, 32, true, 32}, {3, 8, 32, true, 32}}));
    EXPECT_EQ(out.num_scheduled_tokens, 56);
    EXPECT_EQ(table(scheduler, 1), (Ids{0, 1, 2}));
    EXPECT_EQ(table(scheduler, 2), (Ids{0, 1, 3}));
    EXPECT_EQ(table(scheduler, 3), (Ids{0, 1, 4}));
    EXPECT_EQ(scheduler.block_pool().ref_count(0), 3);
    EXPECT_EQ(scheduler.block_pool().ref_count(1), 3);
    EXPECT_EQ(scheduler.block_pool().ref_count(2), 1);
    for (SeqId id = 1; id <= 3; ++id) {
        scheduler.append_token(id, static_cast<TokenId>(id));
    }

    // Another request with the same prompt shares only when prefix caching is on.
    scheduler.add_sequence(spec(4, prompt, /*group=*/8));
    const int expected_hit = prefix_caching ? 32 : 0;
    EXPECT_EQ(step(scheduler), (Entries{{1, 1, 40, true, 0},
                                        {2, 1, 40, true, 0},
                                        {3, 1, 40, true, 0},
                                        {4, 40 - expected_hit, expected_hit, true, expected_hit}}));
    EXPECT_EQ(scheduler.block_pool().ref_count(0), prefix_caching ? 4 : 3);

    scheduler.finish(2);
    scheduler.abort(1);
    scheduler.finish(4);
    scheduler.abort(3);
    expect_all_free(scheduler);
}

// A sequence that needs every prompt position's logits (prompt logprobs) computes its whole
// prompt, next to a cached copy of it and to a sibling of its own group.
TEST_P(Siblings, SkipPrefixCacheComputesTheWholePrompt) {
    Scheduler scheduler(make_config(16, 32, 1000, 8, 256, GetParam()));
    const Tokens prompt = iota_tokens(40, 0);
    scheduler.add_sequence(spec(1, prompt, /*group=*/7));
    step(scheduler);
    SequenceSpec skipping = spec(2, prompt, /*group=*/7);
    skipping.skip_prefix_cache = true;
    scheduler.add_sequence(std::move(skipping));
    scheduler.add_sequence(spec(3, prompt, /*group=*/7));
    // Sequence 3 hits the blocks of 1 (its group), sequence 2 does not look.
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 1, 40, true, 0}, {2, 40, 0, true, 0}, {3, 8, 32, true, 32}}));
    for (SeqId id = 1; id <= 3; ++id) scheduler.abort(id);
    expect_all_free(scheduler);
}

TEST_P(Siblings, ChunkAfterTheSharedBlocksUnderATightBudget) {
    Scheduler scheduler(make_config(16, 32, 50, 8, 256, GetParam()));
    const Tokens prompt = iota_tokens(40, 0);
    for (SeqId id = 1; id <= 3; ++id) {
        scheduler.add_sequence(spec(id, prompt, /*group=*/7));
    }
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 40, 0, true, 0}, {2, 8, 32, true, 32}, {3, 2, 32, false, 32}}));
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 1, 40, true, 0}, {2, 1, 40, true, 0}, {3, 6, 34, true, 0}}));
    EXPECT_EQ(table(scheduler, 3), (Ids{0, 1, 4}));
    scheduler.abort(1);
    scheduler.abort(2);
    scheduler.abort(3);
    expect_all_free(scheduler);
}

INSTANTIATE_TEST_SUITE_P(PrefixCaching, Siblings, ::testing::Bool());

}  // namespace
}  // namespace ovllm::sched::test
