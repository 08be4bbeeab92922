#include <gtest/gtest.h>

#include "scheduler_test_util.hpp"
#include "util/error.hpp"

namespace ovllm::sched::test {
namespace {

using Entries = std::vector<Entry>;

TEST(Scheduler, ChunksALongPromptToTheBudget) {
    Scheduler scheduler(make_config(16, 64, 64, 8, 1024, false));
    scheduler.add_sequence(spec(1, iota_tokens(150, 0)));

    const SchedulerOutput& first = scheduler.schedule();
    ASSERT_EQ(first.sequences.size(), 1u);
    EXPECT_EQ(first.num_scheduled_tokens, 64);
    EXPECT_EQ(first.sequences[0].token_ids.front(), 0);
    EXPECT_EQ(first.sequences[0].token_ids.back(), 63);
    EXPECT_EQ(first.sequences[0].block_table.size(), 4u);
    EXPECT_EQ(entries(first), (Entries{{1, 64, 0, false, 0}}));
    EXPECT_THROW(scheduler.append_token(1, 5), Error);  // a mid-prompt chunk samples nothing

    EXPECT_EQ(step(scheduler), (Entries{{1, 64, 64, false, 0}}));
    const SchedulerOutput& last = scheduler.schedule();
    EXPECT_EQ(entries(last), (Entries{{1, 22, 128, true, 0}}));
    EXPECT_EQ(last.sequences[0].token_ids.front(), 128);
    EXPECT_EQ(last.sequences[0].block_table.size(), 10u);
    scheduler.append_token(1, 999);

    const SchedulerOutput& decode = scheduler.schedule();
    EXPECT_EQ(entries(decode), (Entries{{1, 1, 150, true, 0}}));
    EXPECT_EQ(decode.sequences[0].token_ids[0], 999);
    EXPECT_EQ(table(scheduler, 1), (Ids{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Scheduler, DecodesTakeOneTokenEachBeforeAPromptChunk) {
    Scheduler scheduler(make_config(16, 64, 64, 8, 1024, false));
    scheduler.add_sequence(spec(1, iota_tokens(10, 0)));
    scheduler.add_sequence(spec(2, iota_tokens(10, 100)));
    EXPECT_EQ(step(scheduler), (Entries{{1, 10, 0, true, 0}, {2, 10, 0, true, 0}}));

    scheduler.add_sequence(spec(3, iota_tokens(150, 1000)));
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 1, 10, true, 0}, {2, 1, 10, true, 0}, {3, 62, 0, false, 0}}));
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 1, 11, true, 0}, {2, 1, 11, true, 0}, {3, 62, 62, false, 0}}));
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 1, 12, true, 0}, {2, 1, 12, true, 0}, {3, 26, 124, true, 0}}));
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 1, 13, true, 0}, {2, 1, 13, true, 0}, {3, 1, 150, true, 0}}));
}

TEST(Scheduler, AdmitsAtMostMaxNumSeqs) {
    Scheduler scheduler(make_config(16, 64, 1000, 2, 1024, false));
    for (SeqId id = 1; id <= 3; ++id) {
        scheduler.add_sequence(spec(id, iota_tokens(5, static_cast<TokenId>(id) * 100)));
    }
    EXPECT_EQ(step(scheduler), (Entries{{1, 5, 0, true, 0}, {2, 5, 0, true, 0}}));
    EXPECT_EQ(scheduler.num_running(), 2u);
    EXPECT_EQ(scheduler.num_waiting(), 1u);
    EXPECT_EQ(step(scheduler), (Entries{{1, 1, 5, true, 0}, {2, 1, 5, true, 0}}));
    scheduler.finish(1);
    EXPECT_EQ(step(scheduler), (Entries{{2, 1, 6, true, 0}, {3, 5, 0, true, 0}}));
}

TEST(Scheduler, WithoutChunkedPrefillAPromptWaitsForAWholeBudget) {
    SchedulerConfig config = make_config(16, 64, 64, 8, 64, false);
    config.enable_chunked_prefill = false;
    Scheduler scheduler(config);
    scheduler.add_sequence(spec(1, iota_tokens(60, 0)));
    scheduler.add_sequence(spec(2, iota_tokens(10, 100)));
    scheduler.add_sequence(spec(3, iota_tokens(2, 200)));
    EXPECT_EQ(step(scheduler), (Entries{{1, 60, 0, true, 0}}));  // 3 fits, but FCFS holds it
    EXPECT_EQ(step(scheduler),
              (Entries{{1, 1, 60, true, 0}, {2, 10, 0, true, 0}, {3, 2, 0, true, 0}}));

    config.max_num_batched_tokens = 63;
    EXPECT_THROW(Scheduler{config}, Error);
}

TEST(Scheduler, AbortFreesEverythingAtAnyTime) {
    Scheduler scheduler(make_config(4, 16, 8, 4, 64, true));
    const Tokens prompt = iota_tokens(10, 0);
    scheduler.add_sequence(spec(1, prompt));
    scheduler.add_sequence(spec(2, prompt));
    scheduler.add_sequence(spec(3, iota_tokens(6, 50)));
    step(scheduler);  // 1 takes 8 of its 10 tokens; 2 and 3 wait
    EXPECT_EQ(scheduler.num_running(), 1u);
    step(scheduler);  // 1: 2 tokens; 2: hits 8 tokens, computes 2; 3: 4 of 6
    EXPECT_EQ(scheduler.block_pool().ref_count(0), 2);
    EXPECT_TRUE(scheduler.abort(2));
    EXPECT_FALSE(scheduler.abort(2));
    EXPECT_EQ(scheduler.block_pool().ref_count(0), 1);
    EXPECT_TRUE(scheduler.abort(3));  // mid-prefill
    scheduler.add_sequence(spec(4, iota_tokens(3, 80)));
    EXPECT_TRUE(scheduler.abort(4));  // still waiting
    scheduler.finish(1);
    EXPECT_FALSE(scheduler.has_unfinished());
    EXPECT_EQ(scheduler.num_running() + scheduler.num_waiting(), 0u);
    expect_all_free(scheduler);
    EXPECT_THROW(scheduler.finish(1), Error);
}

TEST(Scheduler, RejectsBadSequencesAndTooSmallCaches) {
    Scheduler scheduler(make_config(16, 8, 64, 4, 100, false));
    EXPECT_THROW(scheduler.add_sequence(spec(1, {})), Error);
    EXPECT_THROW(scheduler.add_sequence(spec(1, iota_tokens(101, 0))), Error);
    SequenceSpec too_long = spec(1, iota_tokens(10, 0));
    too_long.max_total_tokens = 102;
    EXPECT_THROW(scheduler.add_sequence(too_long), Error);
    too_long.max_total_tokens = 10;  // leaves no token to sample
    EXPECT_THROW(scheduler.add_sequence(too_long), Error);
    scheduler.add_sequence(spec(1, iota_tokens(100, 0)));  // exactly max_model_len: samples once
    EXPECT_THROW(scheduler.add_sequence(spec(1, iota_tokens(3, 0))), Error);

    SequenceSpec short_one = spec(2, iota_tokens(3, 0));
    short_one.max_total_tokens = 4;
    scheduler.add_sequence(short_one);
    EXPECT_EQ(step(scheduler), (Entries{{1, 64, 0, false, 0}}));
    EXPECT_EQ(step(scheduler), (Entries{{1, 36, 64, true, 0}, {2, 3, 0, true, 0}}));
    EXPECT_EQ(scheduler.token_ids(1).size(), 101u);
    const auto tokens2 = scheduler.token_ids(2);
    EXPECT_EQ(Tokens(tokens2.begin(), tokens2.end()), (Tokens{0, 1, 2, 7}));
    // Both hold max_total_tokens: nothing more is computed, and nothing may be appended.
    EXPECT_TRUE(scheduler.schedule().sequences.empty());
    EXPECT_THROW(scheduler.append_token(2, 1), Error);
    scheduler.finish(1);
    scheduler.finish(2);
    expect_all_free(scheduler);

    const SchedulerConfig small = make_config(16, 6, 64, 4, 100, false);
    EXPECT_EQ(kv_capacity(small).blocks_needed, 7);
    EXPECT_EQ(kv_capacity(small).blocks_available, 6);
    try {
        check_config(small);
        FAIL() << "a cache of 6 blocks cannot hold 100 tokens in blocks of 16";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("needs 7 blocks of 16 tokens, but the cache holds 6"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(Scheduler{small}, Error);
}

}  // namespace
}  // namespace ovllm::sched::test
