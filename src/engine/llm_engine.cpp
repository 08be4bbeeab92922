#include "engine/llm_engine.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::engine {
namespace {

// The sampler works through its rows on as many threads as inference uses: a single thread
// costs little on 2 cores but a third of every step on 16.
size_t sampler_threads(const EngineConfig& config) {
    if (config.num_threads > 0) return static_cast<size_t>(config.num_threads);
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

LLMEngine::LLMEngine(EngineConfig config) : LLMEngine(config, load_engine_parts(config)) {}

LLMEngine::LLMEngine(EngineConfig config, EngineParts parts)
    : config_(std::move(config)),
      model_config_(std::move(parts.model_config)),
      max_model_len_(parts.scheduler.max_model_len),
      tokenizer_(std::move(parts.tokenizer)),
      runner_(std::move(parts.runner)),
      scheduler_(std::make_unique<sched::Scheduler>(parts.scheduler)),
      output_processor_(tokenizer_.get(), std::move(parts.eos_token_ids),
                        static_cast<size_t>(max_model_len_)),
      sampler_(config_.seed, sampler_threads(config_)),
      start_time_(std::chrono::steady_clock::now()) {
    const SpeculativeConfig& spec = config_.speculative_config;
    if (spec.enabled()) {
        ngram_.num_drafts = static_cast<size_t>(spec.num_speculative_tokens);
        ngram_.min_ngram = static_cast<size_t>(spec.prompt_lookup_min);
        ngram_.max_ngram = static_cast<size_t>(spec.prompt_lookup_max);
    }
}

LLMEngine::~LLMEngine() = default;

double LLMEngine::now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time_).count();
}

void LLMEngine::tokenize_prompt(PromptInput& prompt) const {
    if (!prompt.token_ids.empty()) return;
    if (prompt.text.empty()) throw_error("the prompt is empty");
    if (!tokenizer_) {
        throw_error("{} has no tokenizer.json: give prompts as token ids, or pass --tokenizer",
                    config_.model);
    }
    prompt.token_ids = tokenizer_->encode(prompt.text, /*add_special_tokens=*/true);
}

void LLMEngine::check_lengths(const std::string& request_id, size_t prompt_len,
                              SamplingParams& params) const {
    const size_t limit = static_cast<size_t>(max_model_len_);
    if (prompt_len == 0) throw_error("request {}: the prompt is empty", request_id);
    if (prompt_len >= limit) {
        throw_error(
            "request {}: the prompt is {} tokens long, but the maximum model length is {} "
            "(max_model_len) and at least one token must be generated",
            request_id, prompt_len, limit);
    }
    if (!params.max_tokens) {
        params.max_tokens = static_cast<int>(limit - prompt_len);
    } else if (prompt_len + static_cast<size_t>(*params.max_tokens) > limit) {
        throw_error(
            "request {}: the prompt ({} tokens) plus max_tokens ({}) is {} tokens, more than the "
            "maximum model length {}; lower max_tokens to at most {}",
            request_id, prompt_len, *params.max_tokens, prompt_len + *params.max_tokens, limit,
            limit - prompt_len);
    }
}

void LLMEngine::add_request(const std::string& request_id, PromptInput prompt,
                            SamplingParams params) {
    if (requests_.contains(request_id))
        throw_error("request {}: the id is already in use", request_id);
    params.validate();
    sampling::validate_for_vocab(params, static_cast<size_t>(model_config_.vocab_size));
    tokenize_prompt(prompt);
    for (const int64_t id : prompt.token_ids) {
        if (id < 0 || id >= model_config_.vocab_size)
            throw_error("request {}: prompt token id {} is outside the vocabulary [0, {})",
                        request_id, id, model_config_.vocab_size);
    }
    check_lengths(request_id, prompt.token_ids.size(), params);
    if (!tokenizer_ && (!params.stop.empty() || !params.bad_words.empty())) {
        throw_error("request {}: stop strings and bad words need a tokenizer, and {} has none",
                    request_id, config_.model);
    }
    if (!params.detokenize && !params.stop.empty())
        throw_error("request {}: stop strings need detokenize=true", request_id);
    // Checked now; the token masks compile in the background while the prompt is prefilled.
    std::optional<structured::GrammarFuture> grammar;
    if (params.structured_outputs) {
        try {
            grammar = grammar_compiler().compile_async(*params.structured_outputs);
        } catch (const Error& e) {
            throw_error("request {}: {}", request_id, e.what());
        }
    }

    std::unique_ptr<Request> request =
        output_processor_.make_request({request_id, std::move(prompt.text),
                                        std::move(prompt.token_ids), std::move(params), now()});
    const uint64_t group = next_group_id_++;
    for (Completion& c : request->completions) {
        c.seq_id = next_seq_id_++;
        if (grammar) c.grammar = std::make_unique<structured::SequenceGrammar>(*grammar);
        sched::SequenceSpec spec;
        spec.seq_id = c.seq_id;
        spec.prompt_token_ids = request->prompt_ids;
        spec.max_total_tokens =
            static_cast<int>(request->prompt_ids.size()) + *request->params.max_tokens;
        spec.group_id = group;
        spec.skip_prefix_cache = request->params.prompt_logprobs.has_value();
        scheduler_->add_sequence(std::move(spec));
        seqs_.emplace(c.seq_id, SeqRef{request.get(), c.index});
    }
    requests_.emplace(request_id, std::move(request));
}

structured::GrammarCompiler& LLMEngine::grammar_compiler() {
    if (grammar_compiler_) return *grammar_compiler_;
    if (!tokenizer_)
        throw_error("structured output needs a tokenizer, and {} has none", config_.model);
    const std::filesystem::path folder =
        config_.tokenizer.empty() ? config_.model : config_.tokenizer;
    const structured::GrammarVocabulary vocab = structured::vocabulary_from_tokenizer(
        *tokenizer_, folder / "tokenizer.json", static_cast<size_t>(model_config_.vocab_size),
        output_processor_.eos_ids());
    grammar_compiler_ = std::make_unique<structured::GrammarCompiler>(
        vocab, static_cast<int>(sampler_threads(config_)));
    grammar_compiler_->warm_up();
    return *grammar_compiler_;
}

bool LLMEngine::abort_request(const std::string& request_id) {
    const auto it = requests_.find(request_id);
    if (it == requests_.end()) return false;
    for (const Completion& c : it->second->completions) {
        if (c.finished()) continue;
        scheduler_->abort(c.seq_id);
        seqs_.erase(c.seq_id);
    }
    requests_.erase(it);
    return true;
}

std::vector<RequestOutput> LLMEngine::step() {
    if (requests_.empty()) return {};
    using Clock = std::chrono::steady_clock;
    StepTimes& times = counters_.step_times;
    auto lap = [last = Clock::now()](double& into) mutable {
        const Clock::time_point t = Clock::now();
        into += std::chrono::duration<double>(t - last).count();
        last = t;
    };
    propose_drafts();
    const sched::SchedulerOutput& scheduled = scheduler_->schedule();
    note_scheduled(scheduled);
    lap(times.schedule);
    if (!scheduled.sequences.empty()) {
        const runner::LogitsView logits = runner_->run(build_model_input(scheduled));
        lap(times.model);
        record_prompt_logprobs(logits);
        sample_rows(scheduled, logits);
        lap(times.sample);
        // The sampler's grammar work is its own share of the step.
        const double grammar_seconds = num_sampled_ == 0 ? 0.0 : sampler_.last_grammar_seconds();
        times.sample -= grammar_seconds;
        times.grammar += grammar_seconds;
        update_after_sampling();
    }
    ++counters_.num_steps;
    counters_.max_step_sequences =
        std::max(counters_.max_step_sequences, scheduled.sequences.size());
    std::vector<RequestOutput> outputs = output_processor_.collect_outputs(requests_, now());
    lap(times.outputs);
    return outputs;
}

void LLMEngine::record_kv_events(bool on) {
    scheduler_->record_kv_events(on);
}

bool LLMEngine::reset_prefix_cache() {
    return scheduler_->reset_prefix_cache();
}

std::vector<kv::KVCacheEvent> LLMEngine::take_kv_events() {
    return scheduler_->take_kv_events();
}

void LLMEngine::note_scheduled(const sched::SchedulerOutput& scheduled) {
    if (!scheduled.preempted.empty()) {
        // Under steady KV pressure preemption happens step after step: like vLLM, warn on
        // the first one and then once per kPreemptionsPerWarning.
        constexpr uint64_t kPreemptionsPerWarning = 50;
        const uint64_t before = counters_.num_preemptions;
        counters_.num_preemptions += scheduled.preempted.size();
        if (before == 0 ||
            before / kPreemptionsPerWarning != counters_.num_preemptions / kPreemptionsPerWarning)
            OVLLM_WARN(
                "{} sequence(s) preempted by recompute because there is not enough KV cache space; "
                "this can affect end-to-end performance. Raise VLLM_OPENVINO_KVCACHE_SPACE. "
                "total_num_cumulative_preemption={}",
                scheduled.preempted.size(), counters_.num_preemptions);
    }
    const double t = now();
    for (const sched::ScheduledSequence& s : scheduled.sequences) {
        const SeqRef ref = seqs_.at(s.seq_id);
        Request& request = *ref.request;
        const size_t prompt_len = request.prompt_ids.size();
        const size_t end = static_cast<size_t>(s.past_len) + s.token_ids.size();
        if (static_cast<size_t>(s.past_len) < prompt_len)
            counters_.prompt_tokens += std::min(end, prompt_len) - static_cast<size_t>(s.past_len);
        if (!request.seen_first_schedule) {
            request.seen_first_schedule = true;
            request.metrics.first_scheduled_time = t;
            request.metrics.num_cached_tokens = s.num_cached_tokens;
        }
    }
}

const runner::ModelInput& LLMEngine::build_model_input(const sched::SchedulerOutput& scheduled) {
    auto& seqs = model_input_.sequences;
    seqs.resize(scheduled.sequences.size());
    prompt_rows_.clear();
    size_t extra_rows = 0;
    for (size_t i = 0; i < seqs.size(); ++i) {
        const sched::ScheduledSequence& s = scheduled.sequences[i];
        seqs[i].token_ids.assign(s.token_ids.begin(), s.token_ids.end());
        seqs[i].past_len = s.past_len;
        seqs[i].block_table.assign(s.block_table.begin(), s.block_table.end());
        seqs[i].sample = s.sample;
        // A speculative step samples at the last known token and after each draft but the
        // last: those positions' logits are extra rows, the last one the sampled row.
        seqs[i].extra_logits_begin = 0;
        seqs[i].extra_logits_count = s.draft_token_ids.size();
        extra_rows += s.draft_token_ids.size();
        if (!s.draft_token_ids.empty()) continue;
        const SeqRef ref = seqs_.at(s.seq_id);
        if (!ref.request->params.prompt_logprobs || ref.completion != 0) continue;
        // Position p's logits give prompt token p + 1's logprob: positions [0, prompt - 1),
        // each once (a preempted request computes its prompt again).
        const size_t needed_end = ref.request->prompt_ids.size() - 1;
        const size_t past = static_cast<size_t>(s.past_len);
        const size_t first = std::max(past, ref.request->prompt_logprobs.size());
        const size_t end = std::min(past + s.token_ids.size(), needed_end);
        if (first >= end) continue;
        seqs[i].extra_logits_begin = first - past;
        seqs[i].extra_logits_count = end - first;
        prompt_rows_.push_back({ref.request, first, end - first, extra_rows});
        extra_rows += end - first;
    }
    return model_input_;
}

void LLMEngine::record_prompt_logprobs(const runner::LogitsView& logits) {
    for (const PromptRows& rows : prompt_rows_) {
        const size_t row = rows.extra_first;
        if (row + rows.count > logits.extra_rows) {
            throw_error("model runner returned {} extra logits rows, expected at least {}",
                        logits.extra_rows, row + rows.count);
        }
        Request& request = *rows.request;
        const std::span<const int64_t> targets =
            std::span<const int64_t>(request.prompt_ids).subspan(rows.first + 1, rows.count);
        sampling::compute_prompt_logprobs(
            std::span<const float>(logits.extra_row(row), rows.count * logits.vocab), logits.vocab,
            targets, static_cast<size_t>(*request.params.prompt_logprobs), prompt_logprobs_);
        output_processor_.append_prompt_logprobs(request, prompt_logprobs_);
    }
}

void LLMEngine::sample_rows(const sched::SchedulerOutput& scheduled,
                            const runner::LogitsView& logits) {
    sampler_rows_.clear();
    sampler_logits_.clear();
    num_sampled_ = 0;
    size_t main_row = 0;
    size_t extra_row = 0;
    for (size_t i = 0; i < scheduled.sequences.size(); ++i) {
        const sched::ScheduledSequence& s = scheduled.sequences[i];
        const size_t num_extra = model_input_.sequences[i].extra_logits_count;
        if (!s.sample) {
            extra_row += num_extra;
            continue;
        }
        if (main_row >= logits.rows || extra_row + s.draft_token_ids.size() > logits.extra_rows) {
            throw_error("model runner returned {} + {} logits rows, fewer than the step samples",
                        logits.rows, logits.extra_rows);
        }
        const SeqRef ref = seqs_.at(s.seq_id);
        Request& request = *ref.request;
        Completion& c = request.completions[static_cast<size_t>(ref.completion)];
        if (num_sampled_ == sampled_.size()) sampled_.emplace_back();
        SampledSeq& seq = sampled_[num_sampled_++];
        seq.ref = ref;
        seq.first_row = sampler_rows_.size();
        seq.drafts.assign(s.draft_token_ids.begin(), s.draft_token_ids.end());
        // Row j (after j drafts) sees the drafts before it as output, for penalties.
        seq.outputs_and_drafts.clear();
        if (!seq.drafts.empty()) {
            seq.outputs_and_drafts.assign(c.output_ids.begin(), c.output_ids.end());
            seq.outputs_and_drafts.insert(seq.outputs_and_drafts.end(), seq.drafts.begin(),
                                          seq.drafts.end());
        }
        sampling::SamplerRow row;
        row.params = &request.params;
        row.prompt_ids = request.prompt_ids;
        row.bad_words_ids = request.bad_words_ids;
        row.rng = request.params.seed ? &c.rng : nullptr;
        row.eos_ids = output_processor_.eos_ids();
        row.grammar = c.grammar.get();
        for (size_t j = 0; j <= seq.drafts.size(); ++j) {
            row.output_ids = seq.drafts.empty() ? std::span<const int64_t>(c.output_ids)
                                                : std::span<const int64_t>(seq.outputs_and_drafts)
                                                      .first(c.output_ids.size() + j);
            sampler_rows_.push_back(row);
            sampler_logits_.push_back(j < seq.drafts.size() ? logits.extra_row(extra_row + j)
                                                            : logits.row(main_row));
        }
        ++main_row;
        extra_row += num_extra;
    }
    if (main_row != logits.rows) {
        throw_error("model runner returned {} logits rows for {} sampled sequences", logits.rows,
                    main_row);
    }
    if (sampler_rows_.empty()) return;
    // The sampler edits the runner's output rows in place; they are rewritten next run().
    sampler_.sample(sampler_logits_, logits.vocab, sampler_rows_, sampler_output_);
}

void LLMEngine::propose_drafts() {
    if (ngram_.num_drafts == 0) return;
    for (const auto& [seq_id, ref] : seqs_) {
        const Completion& c = ref.request->completions[static_cast<size_t>(ref.completion)];
        // Structured output advances its grammar one sampled token at a time: no drafts.
        if (c.output_ids.empty() || c.grammar) continue;
        spec::propose_ngram_drafts(scheduler_->token_ids(seq_id), ngram_, drafts_);
        scheduler_->propose_drafts(seq_id, drafts_);  // none replaces any earlier ones
    }
}

// Drafts are tokens of probability one, so the rejection rule of speculative sampling comes
// down to this: draw each row as usual; a draw equal to the draft accepts it and the next
// row (computed with the draft in place) is drawn, and the first draw that differs is kept
// in the draft's place. Every kept token is thus drawn from the very distribution plain
// decoding would use, and greedy output is the same token for token.
void LLMEngine::accept_drafts() {
    kept_tokens_.clear();
    kept_counts_.clear();
    for (size_t i = 0; i < num_sampled_; ++i) {
        const SampledSeq& seq = sampled_[i];
        size_t count = 0;
        for (size_t j = 0; j <= seq.drafts.size(); ++j) {
            const sched::TokenId token = sampler_output_.rows[seq.first_row + j].token_id;
            kept_tokens_.push_back(token);
            ++count;
            if (j == seq.drafts.size() || token != seq.drafts[j]) break;
        }
        kept_counts_.push_back(count);
        if (!seq.drafts.empty()) {
            ++counters_.spec_num_drafts;
            counters_.spec_draft_tokens += seq.drafts.size();
            counters_.spec_accepted_tokens += count - 1;
        }
    }
}

void LLMEngine::update_after_sampling() {
    if (num_sampled_ == 0) return;
    accept_drafts();
    size_t offset = 0;
    for (size_t i = 0; i < num_sampled_; ++i) {
        const SeqRef ref = sampled_[i].ref;
        scheduler_->append_tokens(
            ref.request->completions[static_cast<size_t>(ref.completion)].seq_id,
            std::span<const sched::TokenId>(kept_tokens_).subspan(offset, kept_counts_[i]));
        offset += kept_counts_[i];
    }
    counters_.generation_tokens += kept_tokens_.size();
    const double t = now();
    for (size_t i = 0; i < num_sampled_; ++i) {
        const SampledSeq& seq = sampled_[i];
        Completion& c = seq.ref.request->completions[static_cast<size_t>(seq.ref.completion)];
        for (size_t j = 0; j < kept_counts_[i]; ++j) {
            const size_t row = seq.first_row + j;
            if (!output_processor_.append_token(*seq.ref.request, c, sampler_output_.rows[row],
                                                sampler_output_.top_of(row), t))
                continue;
            scheduler_->finish(c.seq_id);
            seqs_.erase(c.seq_id);
            break;
        }
    }
}

EngineStats LLMEngine::stats() const {
    EngineStats s = counters_;
    s.num_running = scheduler_->num_running();
    s.num_waiting = scheduler_->num_waiting();
    const kv::KVCacheStats kv = scheduler_->kv_stats();
    s.kv_cache_usage = kv.usage;
    s.num_blocks = kv.num_blocks;
    s.num_free_blocks = kv.num_free_blocks;
    s.prefix_cache_queries = kv.prefix_query_tokens;
    s.prefix_cache_hits = kv.prefix_hit_tokens;
    return s;
}

}  // namespace ovllm::engine
