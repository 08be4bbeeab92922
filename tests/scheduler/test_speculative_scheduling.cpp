// The scheduler's side of speculative decoding: drafts ride along a decode step, get KV slots
// but never a prefix-cache hash, and only the accepted ones count as computed.
#include <gtest/gtest.h>

#include "scheduler_test_util.hpp"
#include "util/error.hpp"

namespace ovllm::sched::test {
namespace {

Tokens span_tokens(std::span<const TokenId> span) {
    return {span.begin(), span.end()};
}

Tokens all_tokens(const Scheduler& scheduler, SeqId seq) {
    return span_tokens(scheduler.token_ids(seq));
}

// Prefill of a 5-token prompt with blocks of 4, then token 7 appended: decoding at 5.
Scheduler decoding_scheduler(bool prefix_caching = false, int budget = 64) {
    Scheduler scheduler(make_config(4, 16, budget, 4, 64, prefix_caching));
    scheduler.add_sequence(spec(1, iota_tokens(5, 100)));
    step(scheduler);
    return scheduler;
}

TEST(SpeculativeScheduling, DraftsRideAlongADecodeStep) {
    Scheduler scheduler = decoding_scheduler();
    scheduler.propose_drafts(1, Tokens{8, 9, 10});
    const SchedulerOutput& out = scheduler.schedule();
    ASSERT_EQ(out.sequences.size(), 1u);
    const ScheduledSequence& s = out.sequences[0];
    EXPECT_EQ(span_tokens(s.token_ids), (Tokens{7, 8, 9, 10}));
    EXPECT_EQ(span_tokens(s.draft_token_ids), (Tokens{8, 9, 10}));
    EXPECT_EQ(s.past_len, 5);
    EXPECT_TRUE(s.sample);
    EXPECT_EQ(s.block_table.size(), 3u) << "slots for 5 + 4 tokens";
    EXPECT_EQ(out.num_scheduled_tokens, 4);

    scheduler.append_tokens(1, Tokens{8, 9, 42});  // two drafts accepted, then the model's own
    EXPECT_EQ(all_tokens(scheduler, 1), (Tokens{100, 101, 102, 103, 104, 7, 8, 9, 42}));
    EXPECT_EQ(scheduler.num_computed_tokens(1), 8) << "7, 8 and 9 computed; 42 is next";
    EXPECT_EQ(entries(scheduler.schedule()), (std::vector<Entry>{{1, 1, 8, true, 0}}))
        << "drafts are used once";
}

TEST(SpeculativeScheduling, DraftsWaitForTheDecodePhase) {
    Scheduler scheduler(make_config(4, 16, 3, 4, 64, false));
    scheduler.add_sequence(spec(1, iota_tokens(5, 100)));
    scheduler.propose_drafts(1, Tokens{1, 2});
    const SchedulerOutput& chunk = scheduler.schedule();
    EXPECT_TRUE(chunk.sequences[0].draft_token_ids.empty()) << "a prompt chunk takes no drafts";
    EXPECT_EQ(chunk.num_scheduled_tokens, 3);
    const SchedulerOutput& rest = scheduler.schedule();
    EXPECT_TRUE(rest.sequences[0].draft_token_ids.empty()) << "dropped, not kept for later";
}

TEST(SpeculativeScheduling, DraftsFitTheBudgetAndMaxTotalTokens) {
    Scheduler by_budget = decoding_scheduler(false, 5);
    by_budget.propose_drafts(1, Tokens{1, 2, 3, 4, 5, 6});
    EXPECT_EQ(by_budget.schedule().sequences[0].draft_token_ids.size(), 4u) << "budget 5";

    Scheduler by_length(make_config(4, 16, 64, 4, 64, false));
    SequenceSpec s = spec(1, iota_tokens(5, 100));
    s.max_total_tokens = 8;  // room for 3 generated tokens
    by_length.add_sequence(s);
    step(by_length);
    by_length.propose_drafts(1, Tokens{1, 2, 3, 4, 5});
    EXPECT_EQ(by_length.schedule().sequences[0].draft_token_ids.size(), 1u)
        << "6 tokens, 1 draft and the token after it make 8";
    EXPECT_THROW(by_length.append_tokens(1, Tokens{1, 2, 3}), Error);
    by_length.append_tokens(1, Tokens{1, 2});
    EXPECT_EQ(all_tokens(by_length, 1).size(), 8u);
}

TEST(SpeculativeScheduling, AppendTokensTakesOneToDraftsPlusOne) {
    Scheduler scheduler = decoding_scheduler();
    scheduler.propose_drafts(1, Tokens{8, 9});
    scheduler.schedule();
    EXPECT_THROW(scheduler.append_tokens(1, Tokens{}), Error);
    EXPECT_THROW(scheduler.append_tokens(1, Tokens{8, 9, 10, 11}), Error);
    scheduler.append_tokens(1, Tokens{3});  // first draft rejected
    EXPECT_EQ(scheduler.num_computed_tokens(1), 6);
    scheduler.schedule();
    EXPECT_THROW(scheduler.append_tokens(1, Tokens{4, 5}), Error) << "a step without drafts";
}

TEST(SpeculativeScheduling, RejectedDraftsNeverReachThePrefixCache) {
    // Prompt 100..102, first token 7: block 0 holds 100 101 102 7. Drafts 8 9 10 11 fill
    // block 1 in the cache, but only 8 is accepted: a prompt that continues with 8 9 10 11
    // must find block 0 alone.
    Scheduler scheduler(make_config(4, 16, 64, 4, 64, true));
    scheduler.add_sequence(spec(1, iota_tokens(3, 100)));
    step(scheduler);
    scheduler.propose_drafts(1, Tokens{8, 9, 10, 11});
    EXPECT_EQ(scheduler.schedule().sequences[0].draft_token_ids.size(), 4u);
    scheduler.append_tokens(1, Tokens{8, 55});

    scheduler.add_sequence(spec(2, Tokens{100, 101, 102, 7, 8, 9, 10, 11, 12}));
    const SchedulerOutput& out = scheduler.schedule();
    ASSERT_EQ(out.sequences.size(), 2u);
    EXPECT_EQ(out.sequences[1].num_cached_tokens, 4);
    scheduler.finish(1);
    scheduler.finish(2);
    EXPECT_EQ(scheduler.kv_stats().num_free_blocks, 16) << "no block leaks";
}

TEST(SpeculativeScheduling, DraftsThatDoNotFitAreDroppedNotPreempting) {
    // 4 blocks of 4: sequence 1 holds 2 (5 tokens + its first), sequence 2 holds 2. Drafts
    // for sequence 1 would need a third block: none is free, so it decodes without them.
    Scheduler scheduler(make_config(4, 4, 64, 4, 16, false));
    scheduler.add_sequence(spec(1, iota_tokens(5, 100)));
    scheduler.add_sequence(spec(2, iota_tokens(7, 200)));
    step(scheduler);
    scheduler.propose_drafts(1, Tokens{1, 2, 3});
    const SchedulerOutput& out = scheduler.schedule();
    EXPECT_TRUE(out.preempted.empty());
    ASSERT_EQ(out.sequences.size(), 2u);
    EXPECT_TRUE(out.sequences[0].draft_token_ids.empty());
    EXPECT_EQ(out.sequences[0].token_ids.size(), 1u);
}

}  // namespace
}  // namespace ovllm::sched::test
