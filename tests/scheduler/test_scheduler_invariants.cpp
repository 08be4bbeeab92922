// Random workloads against invariants that any correct step must keep: block tables match
// computed tokens, ref counts equal table occurrences, shared blocks are full and hold the
// same tokens in every sharer, budgets and limits hold, and everything is free at the end.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>

#include "scheduler_test_util.hpp"

namespace ovllm::sched::test {
namespace {

// What a run went through, so a test can show that it exercised the interesting paths.
struct Coverage {
    int preemptions = 0;
    int cached_tokens = 0;
    int shared_blocks = 0;  // summed over steps
};

struct Live {
    uint64_t group = 0;
    int max_total = 0;
};

class Workload {
  public:
    Workload(const SchedulerConfig& config, uint32_t seed)
        : config_(config), scheduler_(config), rng_(seed) {}

    Coverage run(int steps) {
        for (int i = 0; i < steps; ++i) {
            add_some();
            const std::vector<std::pair<SeqId, bool>> scheduled = check_step();
            feed_back(scheduled);
            abort_some();
        }
        for (const auto& [seq, live] : live_) {
            scheduler_.abort(seq);
        }
        expect_all_free(scheduler_);
        EXPECT_FALSE(scheduler_.has_unfinished());
        return coverage_;
    }

  private:
    int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

    void add_some() {
        const int count = uniform(0, 2);
        for (int i = 0; i < count; ++i) {
            // Prompts draw on a tiny vocabulary and start with a few common prefixes, so full
            // blocks repeat across sequences.
            Tokens prompt(static_cast<size_t>(uniform(1, 3 * config_.block_size)));
            const TokenId prefix = uniform(0, 2);
            for (size_t t = 0; t < prompt.size(); ++t) {
                prompt[t] = t < 2 * static_cast<size_t>(config_.block_size) ? prefix * 10 + 1
                                                                            : uniform(0, 3);
            }
            const int siblings = uniform(1, 3);
            const uint64_t group = next_group_++;
            for (int s = 0; s < siblings; ++s) {
                SequenceSpec spec;
                spec.seq_id = next_id_++;
                spec.prompt_token_ids = prompt;
                spec.group_id = group;
                spec.max_total_tokens =
                    std::min<int>(config_.max_model_len, static_cast<int>(prompt.size()) + 20);
                scheduler_.add_sequence(spec);
                live_[spec.seq_id] = Live{group, spec.max_total_tokens};
            }
        }
    }

    std::vector<std::pair<SeqId, bool>> check_step() {
        const SchedulerOutput& out = scheduler_.schedule();
        EXPECT_LE(out.num_scheduled_tokens, config_.max_num_batched_tokens);
        EXPECT_LE(out.sequences.size(), static_cast<size_t>(config_.max_num_seqs));
        EXPECT_LE(scheduler_.num_running(), static_cast<size_t>(config_.max_num_seqs));
        std::vector<std::pair<SeqId, bool>> scheduled;
        int total = 0;
        coverage_.preemptions += static_cast<int>(out.preempted.size());
        for (const ScheduledSequence& s : out.sequences) {
            const auto tokens = scheduler_.token_ids(s.seq_id);
            const int end = s.past_len + static_cast<int>(s.token_ids.size());
            EXPECT_GT(s.token_ids.size(), 0u);
            EXPECT_EQ(s.token_ids.data(), tokens.data() + s.past_len);
            EXPECT_EQ(static_cast<int>(s.block_table.size()),
                      (end + config_.block_size - 1) / config_.block_size);
            EXPECT_EQ(s.sample, end == static_cast<int>(tokens.size()));
            total += static_cast<int>(s.token_ids.size());
            coverage_.cached_tokens += s.num_cached_tokens;
            scheduled.emplace_back(s.seq_id, s.sample);
        }
        EXPECT_EQ(total, out.num_scheduled_tokens);
        check_tables();
        return scheduled;
    }

    void check_tables() {
        std::map<BlockId, std::vector<std::pair<SeqId, size_t>>> holders;
        for (const auto& [seq, live] : live_) {
            const auto table = scheduler_.block_table(seq);
            const int computed = scheduler_.num_computed_tokens(seq);
            EXPECT_EQ(static_cast<int>(table.size()),
                      (computed + config_.block_size - 1) / config_.block_size);
            for (size_t i = 0; i < table.size(); ++i) {
                holders[table[i]].emplace_back(seq, i);
            }
        }
        const auto& pool = scheduler_.block_pool();
        int free_blocks = 0;
        for (BlockId b = 0; b < pool.num_blocks(); ++b) {
            const auto it = holders.find(b);
            const int refs = it == holders.end() ? 0 : static_cast<int>(it->second.size());
            EXPECT_EQ(pool.ref_count(b), refs) << "block " << b;
            free_blocks += refs == 0;
        }
        EXPECT_EQ(pool.num_free_blocks(), free_blocks);
        for (const auto& [block, sharers] : holders) {
            if (sharers.size() > 1) {
                ++coverage_.shared_blocks;
                check_shared(sharers);
            }
        }
    }

    // A shared block sits at the same position in every table, is full, and follows the same
    // tokens; without prefix caching its sharers belong to one group.
    void check_shared(const std::vector<std::pair<SeqId, size_t>>& sharers) {
        const auto [first, index] = sharers.front();
        const auto bs = static_cast<size_t>(config_.block_size);
        const auto first_tokens = scheduler_.token_ids(first);
        for (const auto& [seq, i] : sharers) {
            EXPECT_EQ(i, index);
            const auto tokens = scheduler_.token_ids(seq);
            ASSERT_GE(static_cast<size_t>(scheduler_.num_computed_tokens(seq)), (i + 1) * bs);
            EXPECT_TRUE(std::equal(tokens.begin(), tokens.begin() + static_cast<long>((i + 1) * bs),
                                   first_tokens.begin()));
            if (!config_.enable_prefix_caching) {
                EXPECT_EQ(live_.at(seq).group, live_.at(first).group);
            }
        }
    }

    // Appends a token to every sequence that sampled; finishes some (a stop token) and those
    // that reached max_total_tokens.
    void feed_back(const std::vector<std::pair<SeqId, bool>>& scheduled) {
        for (const auto& [seq, sampled] : scheduled) {
            if (!sampled) {
                continue;
            }
            scheduler_.append_token(seq, uniform(0, 3));
            const bool at_limit =
                static_cast<int>(scheduler_.token_ids(seq).size()) == live_.at(seq).max_total;
            if (at_limit || uniform(0, 9) == 0) {
                scheduler_.finish(seq);
                live_.erase(seq);
            }
        }
    }

    void abort_some() {
        if (live_.empty() || uniform(0, 4) != 0) {
            return;
        }
        auto it = live_.begin();
        std::advance(it, uniform(0, static_cast<int>(live_.size()) - 1));
        EXPECT_TRUE(scheduler_.abort(it->first));
        live_.erase(it);
    }

    SchedulerConfig config_;
    Scheduler scheduler_;
    std::mt19937 rng_;
    std::map<SeqId, Live> live_;
    SeqId next_id_ = 1;
    uint64_t next_group_ = 1;
    Coverage coverage_;
};

SchedulerConfig small_config(bool prefix_caching, bool chunked) {
    // 4-token blocks, room for about four sequences: preemption is frequent.
    SchedulerConfig config = make_config(4, 24, 24, 6, 64, prefix_caching);
    config.enable_chunked_prefill = chunked;
    if (!chunked) {
        config.max_num_batched_tokens = config.max_model_len;
    }
    return config;
}

class RandomWorkload : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(RandomWorkload, KeepsEveryInvariant) {
    const auto [prefix_caching, chunked] = GetParam();
    Coverage total;
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        SCOPED_TRACE(testing::Message() << "seed " << seed);
        const Coverage run = Workload(small_config(prefix_caching, chunked), seed).run(300);
        total.preemptions += run.preemptions;
        total.cached_tokens += run.cached_tokens;
        total.shared_blocks += run.shared_blocks;
        if (testing::Test::HasFailure()) {
            break;
        }
    }
    EXPECT_GT(total.preemptions, 0);
    EXPECT_GT(total.cached_tokens, 0);
    EXPECT_GT(total.shared_blocks, 0);
    std::printf("preemptions %d, cached tokens %d, shared block-steps %d\n", total.preemptions,
                total.cached_tokens, total.shared_blocks);
}

INSTANTIATE_TEST_SUITE_P(CachingAndChunking, RandomWorkload,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()));

}  // namespace
}  // namespace ovllm::sched::test
