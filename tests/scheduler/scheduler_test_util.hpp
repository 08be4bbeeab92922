#pragma once
// Helpers shared by the scheduler tests: config builders and a compact view of a step.
#include <gtest/gtest.h>

#include <numeric>
#include <ostream>
#include <vector>

#include "scheduler/scheduler.hpp"

namespace ovllm::sched::test {

using Tokens = std::vector<TokenId>;
using Ids = std::vector<BlockId>;

inline SchedulerConfig make_config(int block_size, int num_blocks, int budget, int max_seqs,
                                   int max_model_len, bool prefix_caching) {
    SchedulerConfig config;
    config.block_size = block_size;
    config.num_blocks = num_blocks;
    config.max_num_batched_tokens = budget;
    config.max_num_seqs = max_seqs;
    config.max_model_len = max_model_len;
    config.enable_prefix_caching = prefix_caching;
    return config;
}

inline Tokens iota_tokens(int count, TokenId first) {
    Tokens tokens(static_cast<size_t>(count));
    std::iota(tokens.begin(), tokens.end(), first);
    return tokens;
}

inline SequenceSpec spec(SeqId id, Tokens prompt, uint64_t group = 0) {
    SequenceSpec s;
    s.seq_id = id;
    s.prompt_token_ids = std::move(prompt);
    s.group_id = group == 0 ? id : group;
    return s;
}

// One scheduled entry reduced to comparable numbers.
struct Entry {
    SeqId seq = 0;
    int num_new = 0;
    int past_len = 0;
    bool sample = false;
    int cached = 0;
    bool operator==(const Entry&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Entry& e) {
    return os << "{seq " << e.seq << ", new " << e.num_new << ", past " << e.past_len << ", sample "
              << e.sample << ", cached " << e.cached << "}";
}

inline std::vector<Entry> entries(const SchedulerOutput& out) {
    std::vector<Entry> result;
    for (const ScheduledSequence& s : out.sequences) {
        result.push_back({s.seq_id, static_cast<int>(s.token_ids.size()), s.past_len, s.sample,
                          s.num_cached_tokens});
    }
    return result;
}

// Runs one step and feeds back `token` for every sequence that sampled.
inline std::vector<Entry> step(Scheduler& scheduler, TokenId token = 7) {
    const std::vector<Entry> result = entries(scheduler.schedule());
    for (const Entry& e : result) {
        if (e.sample) {
            scheduler.append_token(e.seq, token);
        }
    }
    return result;
}

inline Ids table(const Scheduler& scheduler, SeqId seq) {
    const auto span = scheduler.block_table(seq);
    return {span.begin(), span.end()};
}

// Every block back in the free queue with no reference left.
inline void expect_all_free(const Scheduler& scheduler) {
    const kv::KVCacheStats stats = scheduler.kv_stats();
    EXPECT_EQ(stats.num_free_blocks, stats.num_blocks);
    for (BlockId b = 0; b < stats.num_blocks; ++b) {
        EXPECT_EQ(scheduler.block_pool().ref_count(b), 0) << "block " << b;
    }
}

}  // namespace ovllm::sched::test
