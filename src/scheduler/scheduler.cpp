#include "scheduler/scheduler.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace ovllm::sched {
namespace {

// Distinct tags keep the two sharing modes' hash seeds apart.
constexpr uint64_t kSharedCacheTag = 0x5348415245440001ULL;
constexpr uint64_t kGroupCacheTag = 0x47524F5550000002ULL;

uint64_t extra_key_for(const SchedulerConfig& config, const SequenceSpec& spec) {
    if (config.enable_prefix_caching) {
        return kv::combine_keys(kSharedCacheTag, spec.cache_salt);
    }
    return kv::combine_keys(kv::combine_keys(kGroupCacheTag, spec.cache_salt), spec.group_id);
}

void require_positive(int value, const char* field) {
    if (value <= 0) {
        throw_error("scheduler config: {} must be positive, got {}", field, value);
    }
}

}  // namespace

KVCapacity kv_capacity(const SchedulerConfig& config) {
    KVCapacity capacity;
    capacity.blocks_needed = (config.max_model_len + config.block_size - 1) / config.block_size;
    capacity.blocks_available = config.num_blocks;
    return capacity;
}

void check_config(const SchedulerConfig& config) {
    require_positive(config.block_size, "block_size");
    require_positive(config.num_blocks, "num_blocks");
    require_positive(config.max_num_seqs, "max_num_seqs");
    require_positive(config.max_num_batched_tokens, "max_num_batched_tokens");
    require_positive(config.max_model_len, "max_model_len");
    const KVCapacity capacity = kv_capacity(config);
    if (capacity.blocks_needed > capacity.blocks_available) {
        throw_error(
            "kv cache: one sequence of max_model_len {} needs {} blocks of {} tokens, but the "
            "cache holds {}; raise the KV cache space (VLLM_OPENVINO_KVCACHE_SPACE or "
            "--kv-cache-space) or lower --max-model-len",
            config.max_model_len, capacity.blocks_needed, config.block_size,
            capacity.blocks_available);
    }
    if (!config.enable_chunked_prefill && config.max_num_batched_tokens < config.max_model_len) {
        throw_error(
            "scheduler config: max_num_batched_tokens {} is smaller than max_model_len {} with "
            "chunked prefill disabled; raise max_num_batched_tokens or enable chunked prefill",
            config.max_num_batched_tokens, config.max_model_len);
    }
}

Scheduler::Scheduler(const SchedulerConfig& config)
    : config_((check_config(config), config)), kv_(config.num_blocks, config.block_size) {
    running_.reserve(static_cast<size_t>(config.max_num_seqs));
    output_.sequences.reserve(static_cast<size_t>(config.max_num_seqs));
    output_.preempted.reserve(static_cast<size_t>(config.max_num_seqs));
}

void Scheduler::add_sequence(SequenceSpec spec) {
    const int prompt_len = static_cast<int>(spec.prompt_token_ids.size());
    const int max_total = spec.max_total_tokens == 0
                              ? std::max(config_.max_model_len, prompt_len + 1)
                              : spec.max_total_tokens;
    if (prompt_len == 0) {
        throw_error("sequence {}: prompt is empty", spec.seq_id);
    }
    if (prompt_len > config_.max_model_len) {
        throw_error("sequence {}: prompt of {} tokens exceeds max_model_len {}", spec.seq_id,
                    prompt_len, config_.max_model_len);
    }
    if (max_total > config_.max_model_len + 1 || max_total <= prompt_len) {
        throw_error(
            "sequence {}: max_total_tokens {} must lie in [prompt length + 1, max_model_len + 1] "
            "= [{}, {}]",
            spec.seq_id, max_total, prompt_len + 1, config_.max_model_len + 1);
    }
    if (seqs_.contains(spec.seq_id)) {
        throw_error("sequence {}: id already in use", spec.seq_id);
    }
    Sequence seq;
    seq.id = spec.seq_id;
    seq.extra_key = extra_key_for(config_, spec);
    seq.skip_prefix_cache = spec.skip_prefix_cache;
    seq.max_total_tokens = max_total;
    seq.tokens = std::move(spec.prompt_token_ids);
    seq.tokens.reserve(static_cast<size_t>(max_total));  // no reallocation while decoding
    Sequence& stored = seqs_.emplace(seq.id, std::move(seq)).first->second;
    waiting_.push_back(&stored);
}

const SchedulerOutput& Scheduler::schedule() {
    output_.sequences.clear();
    output_.preempted.clear();
    output_.num_scheduled_tokens = 0;
    int budget = config_.max_num_batched_tokens;
    schedule_running(budget);
    // A step that preempted is short of blocks: admitting anyone now would only thrash.
    if (output_.preempted.empty()) {
        schedule_waiting(budget);
    }
    return output_;
}

void Scheduler::schedule_running(int& budget) {
    for (size_t i = 0; i < running_.size() && budget > 0;) {
        Sequence& seq = *running_[i];
        // The last of max_total_tokens is never fed back: its sequence is done.
        const int num_tokens =
            std::min(static_cast<int>(seq.tokens.size()), seq.max_total_tokens - 1);
        const int num_new = std::min(num_tokens - seq.num_computed_tokens, budget);
        if (num_new <= 0) {  // its sampled token has not come back yet, or it is done
            ++i;
            continue;
        }
        int num_drafts = num_new == 1 ? drafts_to_schedule(seq, budget) : 0;
        kv::SlotRequest request{seq.tokens, seq.num_computed_tokens, num_new, seq.extra_key,
                                num_drafts};
        bool fits = false;
        bool preempted_self = false;
        while (!fits && !preempted_self) {
            fits = kv_.allocate_slots(seq.id, request).has_value();
            if (!fits && num_drafts > 0) {  // drafts are never worth a preemption
                num_drafts = 0;
                request.num_lookahead_tokens = 0;
            } else if (!fits) {
                Sequence& victim = *running_.back();
                preempted_self = &victim == &seq;
                preempt(victim);
            }
        }
        if (preempted_self) {
            return;
        }
        emit(seq, num_new, 0, num_drafts);
        budget -= num_new + num_drafts;
        ++i;
    }
}

void Scheduler::schedule_waiting(int& budget) {
    while (!waiting_.empty() && budget > 0 &&
           running_.size() < static_cast<size_t>(config_.max_num_seqs)) {
        Sequence& seq = *waiting_.front();
        const kv::PrefixHit hit = seq.skip_prefix_cache
                                      ? kv::PrefixHit{}
                                      : kv_.get_computed_blocks(seq.tokens, seq.extra_key);
        const int owed = static_cast<int>(seq.tokens.size()) - hit.num_tokens;
        if (!config_.enable_chunked_prefill && owed > budget) {
            return;  // FCFS: nobody overtakes a prompt that waits for a whole-budget step
        }
        const int num_new = std::min(owed, budget);
        const kv::SlotRequest request{seq.tokens, 0, num_new, seq.extra_key};
        if (!kv_.allocate_slots(seq.id, request, hit)) {
            return;
        }
        waiting_.pop_front();
        running_.push_back(&seq);
        seq.running = true;
        seq.num_computed_tokens = hit.num_tokens;
        emit(seq, num_new, hit.num_tokens);
        budget -= num_new;
    }
}

// A decoding sequence's drafts that fit: after them and the token sampled behind them the
// sequence must stay within max_total_tokens, and they share the step's token budget.
int Scheduler::drafts_to_schedule(const Sequence& seq, int budget) const {
    const int num_tokens = static_cast<int>(seq.tokens.size());
    if (seq.drafts.empty() || seq.num_computed_tokens != num_tokens - 1) return 0;
    const int room = seq.max_total_tokens - num_tokens - 1;
    return std::max(0, std::min({static_cast<int>(seq.drafts.size()), room, budget - 1}));
}

void Scheduler::preempt(Sequence& victim) {
    running_.pop_back();
    kv_.free(victim.id);
    victim.num_computed_tokens = 0;
    victim.drafts.clear();
    victim.running = false;
    waiting_.push_front(&victim);
    output_.preempted.push_back(victim.id);
}

void Scheduler::emit(Sequence& seq, int num_new_tokens, int num_cached_tokens, int num_drafts) {
    ScheduledSequence& out = output_.sequences.emplace_back();
    out.seq_id = seq.id;
    out.token_ids = std::span<const TokenId>(seq.tokens)
                        .subspan(static_cast<size_t>(seq.num_computed_tokens),
                                 static_cast<size_t>(num_new_tokens));
    if (num_drafts > 0) {
        seq.step_tokens.assign(out.token_ids.begin(), out.token_ids.end());
        seq.step_tokens.insert(seq.step_tokens.end(), seq.drafts.begin(),
                               seq.drafts.begin() + num_drafts);
        out.token_ids = seq.step_tokens;
        out.draft_token_ids = out.token_ids.subspan(static_cast<size_t>(num_new_tokens));
    }
    seq.drafts.clear();
    seq.num_step_drafts = num_drafts;
    out.past_len = seq.num_computed_tokens;
    out.block_table = kv_.block_table(seq.id);
    // Drafts are not counted as computed until the engine accepts them (append_tokens).
    seq.num_computed_tokens += num_new_tokens;
    out.sample = seq.num_computed_tokens == static_cast<int>(seq.tokens.size());
    out.num_cached_tokens = num_cached_tokens;
    output_.num_scheduled_tokens += num_new_tokens + num_drafts;
}

Scheduler::Sequence& Scheduler::get(SeqId seq) {
    const auto it = seqs_.find(seq);
    if (it == seqs_.end()) {
        throw_error("scheduler: unknown sequence {}", seq);
    }
    return it->second;
}

const Scheduler::Sequence& Scheduler::get(SeqId seq) const {
    const auto it = seqs_.find(seq);
    if (it == seqs_.end()) {
        throw_error("scheduler: unknown sequence {}", seq);
    }
    return it->second;
}

void Scheduler::propose_drafts(SeqId seq_id, std::span<const TokenId> drafts) {
    Sequence& seq = get(seq_id);
    seq.drafts.assign(drafts.begin(), drafts.end());
}

void Scheduler::append_token(SeqId seq_id, TokenId token) {
    append_tokens(seq_id, std::span<const TokenId>(&token, 1));
}

void Scheduler::append_tokens(SeqId seq_id, std::span<const TokenId> new_tokens) {
    Sequence& seq = get(seq_id);
    const int num_tokens = static_cast<int>(seq.tokens.size());
    if (!seq.running || seq.num_computed_tokens != num_tokens) {
        throw_error("sequence {}: got a sampled token but its last step did not sample", seq_id);
    }
    const int count = static_cast<int>(new_tokens.size());
    if (count < 1 || count > seq.num_step_drafts + 1) {
        throw_error("sequence {}: got {} tokens after a step with {} drafts (1 to {} expected)",
                    seq_id, count, seq.num_step_drafts, seq.num_step_drafts + 1);
    }
    if (num_tokens + count > seq.max_total_tokens) {
        throw_error("sequence {}: {} more tokens pass max_total_tokens {}", seq_id, count,
                    seq.max_total_tokens);
    }
    seq.tokens.insert(seq.tokens.end(), new_tokens.begin(), new_tokens.end());
    // The accepted drafts' KV was computed by the step; the last token's is computed next.
    seq.num_computed_tokens += count - 1;
    seq.num_step_drafts = 0;
}

void Scheduler::update(std::span<const std::pair<SeqId, TokenId>> sampled) {
    for (const auto& [seq, token] : sampled) {
        append_token(seq, token);
    }
}

void Scheduler::remove(Sequence& seq) {
    const SeqId id = seq.id;  // `seq` dies with its map entry
    // Without prefix caching a finished sequence's blocks are hashed only for its own group
    // (n > 1 siblings, resumption after preemption); once unreferenced nobody finds them.
    kv_.free(id, /*keep_cached=*/config_.enable_prefix_caching);
    if (seq.running) {
        running_.erase(std::find(running_.begin(), running_.end(), &seq));
    } else {
        waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &seq));
    }
    seqs_.erase(id);
}

void Scheduler::finish(SeqId seq) {
    remove(get(seq));
}

bool Scheduler::abort(SeqId seq) {
    const auto it = seqs_.find(seq);
    if (it == seqs_.end()) {
        return false;
    }
    remove(it->second);
    return true;
}

int Scheduler::num_computed_tokens(SeqId seq) const {
    return get(seq).num_computed_tokens;
}

std::span<const TokenId> Scheduler::token_ids(SeqId seq) const {
    return get(seq).tokens;
}

std::span<const BlockId> Scheduler::block_table(SeqId seq) const {
    return kv_.block_table(seq);
}

}  // namespace ovllm::sched
