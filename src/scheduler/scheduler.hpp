#pragma once
// Continuous batching with one rule: every sequence is owed num_tokens - num_computed_tokens,
// and each step hands out a token budget (max_num_batched_tokens) to at most max_num_seqs
// sequences: running ones first, in admission order, then waiting ones first-come first-served.
// A prompt larger than what is left of the budget is cut into chunks (chunked prefill), so
// prefill chunks and decodes share one step. When a running sequence cannot get blocks, the
// newest running sequence is preempted by recompute (blocks freed, back to the front of the
// waiting queue) until the allocation fits or the sequence itself was the victim.
//
// Prefix sharing. Every full block is hashed (kv_cache/block_hash.hpp) and looked up when a
// sequence is admitted. The hash seed (extra key) decides who can share:
// - enable_prefix_caching on: the seed is the sequence's cache_salt only, so any sequence
//   with the same salt and the same leading tokens reuses blocks, across requests.
// - off: the seed also holds the sequence's group_id, so only sequences of one group share:
//   the n samples of one request (their prompt's full blocks are computed once, the partial
//   last block by each), and a preempted sequence resuming on its own surviving blocks.
// The engine adds the n sequences of a request together with one group_id, before the step
// that schedules them; the first computes the full prompt blocks, the others hit them in the
// same step. This relies on the runner writing a step's keys and values before attention
// reads them: the CPU plugin's PagedAttention copies all new keys and values of the step into
// the cache before its attention kernel runs, layer by layer.
//
// Speculative decoding. Before schedule() the engine may give a running sequence draft
// tokens (propose_drafts). When the sequence is decoding (one token owed) and the budget,
// max_total_tokens and the cache allow, the step computes its last token followed by the
// drafts: token_ids = [last, drafts...], draft_token_ids its tail. The drafts get KV slots
// but are never hashed into the prefix cache; when their slots do not fit, the step goes
// without them rather than preempt anyone. The engine then appends the tokens it accepted
// (append_tokens: the accepted drafts and one token of its own, 1 to drafts + 1 tokens), and
// the KV of rejected drafts is overwritten by the next step. Unused drafts are dropped.
//
// Call order per step: schedule(), run the model on the output, then update() or
// append_tokens() with the tokens sampled for the entries whose `sample` was true, then
// finish()/abort() as the engine decides. Never abort between schedule() and the run of its output:
// blocks filled by that run are already in the prefix cache, and other sequences of the step may
// read them. Not thread-safe: the engine loop owns the scheduler. The spans in SchedulerOutput stay
// valid until the next call that changes the scheduler (update, append_token, add_sequence, finish,
// abort, schedule).
#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kv_cache/kv_cache_manager.hpp"

namespace ovllm::sched {

using SeqId = kv::SeqId;
using TokenId = kv::TokenId;
using BlockId = kv::BlockId;

struct SchedulerConfig {
    int block_size = 32;                // tokens per KV block
    int num_blocks = 0;                 // KV blocks the cache holds
    int max_num_seqs = 256;             // sequences running at once
    int max_num_batched_tokens = 8192;  // token budget of one step
    int max_model_len = 0;              // prompt + generated tokens of one sequence at most
    bool enable_prefix_caching = false;
    bool enable_chunked_prefill = true;  // false: a prompt is computed whole in one step
};

// KV blocks one max_model_len sequence needs, next to the blocks the cache holds.
struct KVCapacity {
    int blocks_needed = 0;
    int blocks_available = 0;
};
KVCapacity kv_capacity(const SchedulerConfig& config);

// Throws ovllm::Error when one sequence of max_model_len tokens cannot fit in the cache, or
// when a field is out of range.
void check_config(const SchedulerConfig& config);

struct SequenceSpec {
    SeqId seq_id = 0;                       // unique among live sequences
    std::vector<TokenId> prompt_token_ids;  // [prompt tokens], not empty
    // Prompt + generated tokens at most, in [prompt + 1, max_model_len + 1]: the last sampled
    // token is never fed back, so the KV cache holds at most max_model_len of them. The engine
    // finishes the sequence when it gets there. 0: max(max_model_len, prompt + 1).
    int max_total_tokens = 0;
    uint64_t group_id = 0;    // the request: its n sequences share one group_id
    uint64_t cache_salt = 0;  // anything else that changes the KV content
    // Compute every prompt token, never reusing cached blocks: the engine needs the logits
    // of each prompt position (prompt logprobs), as vLLM skips the prefix cache for them.
    bool skip_prefix_cache = false;
};

// One sequence's share of a step; the engine turns it into the runner's input.
struct ScheduledSequence {
    SeqId seq_id = 0;
    std::span<const TokenId> token_ids;        // [new tokens] to compute this step
    std::span<const TokenId> draft_token_ids;  // the tail of token_ids that are drafts
    int past_len = 0;                          // tokens computed before this step
    std::span<const BlockId> block_table;      // [ceil((past_len + new tokens) / block_size)]
    bool sample = false;                       // the step reaches the last known token: sample one
    int num_cached_tokens = 0;                 // prefix-cache hit; non-zero only on admission
};

struct SchedulerOutput {
    std::vector<ScheduledSequence> sequences;  // running ones first, then newly admitted
    std::vector<SeqId> preempted;              // sent back to waiting this step, newest first
    int num_scheduled_tokens = 0;              // sum of token_ids sizes
};

class Scheduler {
  public:
    explicit Scheduler(const SchedulerConfig& config);

    // Queues a sequence (last in FCFS order). Throws ovllm::Error for an empty prompt, a
    // prompt or max_total_tokens beyond max_model_len, or a seq_id already live.
    void add_sequence(SequenceSpec spec);

    // Plans one step. The reference stays valid until the next schedule().
    const SchedulerOutput& schedule();

    // Drafts for `seq`'s next step; used only if that step decodes (see the header comment).
    void propose_drafts(SeqId seq, std::span<const TokenId> drafts);

    // Appends the token sampled for `seq`; only for a sequence whose last step sampled.
    void append_token(SeqId seq, TokenId token);
    // Appends the accepted drafts (a prefix of the step's drafts) and the token sampled after
    // them: 1 to drafts + 1 tokens. Throws ovllm::Error for more, or for none.
    void append_tokens(SeqId seq, std::span<const TokenId> tokens);
    void update(std::span<const std::pair<SeqId, TokenId>> sampled);

    // Frees the sequence's blocks and forgets it. finish() throws for an unknown id; abort()
    // returns false for one (it may have finished already).
    void finish(SeqId seq);
    bool abort(SeqId seq);

    size_t num_running() const { return running_.size(); }
    size_t num_waiting() const { return waiting_.size(); }
    bool has_unfinished() const { return !seqs_.empty(); }
    bool contains(SeqId seq) const { return seqs_.contains(seq); }
    int num_computed_tokens(SeqId seq) const;
    std::span<const TokenId> token_ids(SeqId seq) const;  // prompt + generated so far
    std::span<const BlockId> block_table(SeqId seq) const;
    kv::KVCacheStats kv_stats() const { return kv_.stats(); }
    // Read-only, for checks of reference counts and free order (the tests' view of the cache).
    const kv::BlockPool& block_pool() const { return kv_.pool(); }
    // Prefix-cache events (kv_cache/kv_events.hpp), passed through from the cache manager.
    void record_kv_events(bool on) { kv_.record_events(on); }
    std::vector<kv::KVCacheEvent> take_kv_events() { return kv_.take_events(); }
    // Empties the prefix cache; false (nothing changed) while any sequence holds blocks.
    bool reset_prefix_cache() { return kv_.reset_prefix_cache(); }
    const SchedulerConfig& config() const { return config_; }

  private:
    struct Sequence {
        SeqId id = 0;
        std::vector<TokenId> tokens;  // prompt then generated
        int max_total_tokens = 0;
        int num_computed_tokens = 0;
        uint64_t extra_key = 0;  // hash seed, see the header comment
        bool skip_prefix_cache = false;
        bool running = false;
        std::vector<TokenId> drafts;       // proposed for the next step
        std::vector<TokenId> step_tokens;  // [last token, drafts...] of a speculative step
        int num_step_drafts = 0;           // drafts the last step computed
    };

    Sequence& get(SeqId seq);
    const Sequence& get(SeqId seq) const;
    void schedule_running(int& budget);
    void schedule_waiting(int& budget);
    void preempt(Sequence& victim);
    int drafts_to_schedule(const Sequence& seq, int budget) const;
    void emit(Sequence& seq, int num_new_tokens, int num_cached_tokens, int num_drafts = 0);
    void remove(Sequence& seq);

    SchedulerConfig config_;
    kv::KVCacheManager kv_;
    std::unordered_map<SeqId, Sequence> seqs_;  // node-based: Sequence addresses are stable
    std::vector<Sequence*> running_;            // admission order; the back is the newest
    std::deque<Sequence*> waiting_;             // FCFS; preempted ones go to the front
    SchedulerOutput output_;
};

}  // namespace ovllm::sched
