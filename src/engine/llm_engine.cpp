#include "engine/llm_engine.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>
#include <utility>

#include <openvino/runtime/properties.hpp>

#include "model/loader.hpp"
#include "model/quantize.hpp"
#include "ovllm/version.hpp"
#include "runner/precision.hpp"
#include "tokenizer/generation_config.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/vllm_log.hpp"

namespace ovllm::engine {
namespace {

// The detokenizer reads this many prompt ids as context, so the first generated token is
// decoded as it follows the prompt (a leading space stays a space).
constexpr size_t kDetokenizerContextIds = 4;

std::unique_ptr<tokenizer::Tokenizer> load_tokenizer(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path.empty() || !fs::is_directory(path, ec) ||
        !fs::exists(fs::path(path) / "tokenizer.json"))
        return nullptr;
    return std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::from_folder(path));
}

// --weight-format auto: int8 (vLLM-OpenVINO's quantized weights), except with --dtype f32,
// the exact mode, where weights stay as stored.
model::WeightFormat weight_format(const EngineConfig& config) {
    if (config.weight_format == "auto")
        return runner::is_f32_name(config.dtype) ? model::WeightFormat::none
                                                 : model::WeightFormat::int8;
    return model::parse_weight_format(config.weight_format);
}

// An IR folder's runtime_options that concern precision apply, except those the user chose
// by flag. OpenVINO reads the others from the model's rt_info itself (and some, such as
// ACTIVATIONS_SCALE_FACTOR, are not CPU compile properties).
ov::AnyMap ir_runtime_options(const EngineConfig& config, const ov::AnyMap& runtime_options) {
    ov::AnyMap options;
    const auto take = [&](const std::string& name, bool user_chose) {
        const auto it = runtime_options.find(name);
        if (it != runtime_options.end() && !user_chose) options.insert(*it);
    };
    // --dtype f32 chooses the KV precision too (f32, see runner::resolve_precisions).
    take(ov::hint::kv_cache_precision.name(),
         config.kv_cache_dtype != "auto" || runner::is_f32_name(config.dtype));
    take(ov::hint::inference_precision.name(), config.dtype != "auto");
    if (!options.empty()) OVLLM_INFO("Applying the IR's runtime options: {}", options.size());
    return options;
}

// Every id that ends generation: generation_config.json, config.json and the tokenizer's
// EOS (see tokenizer/generation_config.hpp for the order). A built-in dummy model has only
// its config's ids.
std::vector<int64_t> stop_ids(const std::string& model_path, const model::ModelConfig& config,
                              const tokenizer::Tokenizer* tok) {
    std::error_code ec;
    if (!std::filesystem::is_directory(model_path, ec)) return config.eos_token_ids;
    const tokenizer::GenerationDefaults defaults =
        tokenizer::load_generation_defaults(model_path, tok);
    return {defaults.eos_token_ids.begin(), defaults.eos_token_ids.end()};
}

// The sampler works through its rows on as many threads as inference uses: a single thread
// costs little on 2 cores but a third of every step on 16.
size_t sampler_threads(const EngineConfig& config) {
    if (config.num_threads > 0) return static_cast<size_t>(config.num_threads);
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

LLMEngine::LLMEngine(EngineConfig config)
    : config_(std::move(config)),
      sampler_(config_.seed, sampler_threads(config_)),
      start_time_(std::chrono::steady_clock::now()) {
    model::LoadedModel loaded = model::load_model(
        config_.model, model::parse_load_format(config_.load_format), weight_format(config_));
    model_config_ = loaded.config;
    const int derived_len = static_cast<int>(model_config_.max_position_embeddings);
    if (config_.max_model_len > derived_len && derived_len > 0) {
        throw_error("--max-model-len {} is greater than the model's max_position_embeddings {}",
                    config_.max_model_len, derived_len);
    }
    max_model_len_ = config_.max_model_len > 0 ? config_.max_model_len : derived_len;
    // The config line shows the weight compression applied, not the flag's "auto".
    EngineConfig shown = config_;
    shown.weight_format = model::weight_format_name(loaded.compression);
    OVLLM_INFO("{}", vllm_log::engine_config_line(shown, max_model_len_, kVersion));

    tokenizer_ = load_tokenizer(config_.tokenizer.empty() ? config_.model : config_.tokenizer);
    eos_ids_ = stop_ids(config_.model, model_config_, tokenizer_.get());

    runner::RunnerOptions options;
    const runner::Precisions precisions =
        runner::resolve_precisions(config_.dtype, config_.kv_cache_dtype);
    options.inference_precision = precisions.inference;
    options.kv_cache_precision = precisions.kv_cache;
    OVLLM_INFO("KV cache precision {} ({})", precisions.kv_cache.get_type_name(),
               precisions.kv_cache_reason);
    const double space_gb = config_.kv_cache_space_gb > 0 ? config_.kv_cache_space_gb : 4.0;
    options.kv_cache_bytes = static_cast<size_t>(space_gb * double(size_t{1} << 30));
    options.num_threads = config_.num_threads;
    options.profile_ops = config_.profile_ops;
    options.properties = ir_runtime_options(config_, loaded.runtime_options);
    runner_ = std::make_unique<runner::ModelRunner>(loaded.model, options);
    OVLLM_INFO("{}", vllm_log::cpu_blocks_line(static_cast<int64_t>(runner_->num_blocks())));

    sched::SchedulerConfig sched_config;
    sched_config.block_size = runner_->block_size();
    sched_config.num_blocks = static_cast<int>(runner_->num_blocks());
    sched_config.max_num_seqs = config_.max_num_seqs;
    sched_config.max_num_batched_tokens =
        config_.max_num_batched_tokens > 0
            ? config_.max_num_batched_tokens
            : std::max(8192, config_.enable_chunked_prefill ? 0 : max_model_len_);
    sched_config.max_model_len = max_model_len_;
    sched_config.enable_prefix_caching = config_.enable_prefix_caching;
    sched_config.enable_chunked_prefill = config_.enable_chunked_prefill;
    const sched::KVCapacity capacity = sched::kv_capacity(sched_config);
    if (capacity.blocks_needed > capacity.blocks_available) {
        const double needed_gb = double(capacity.blocks_needed) *
                                 double(runner_->kv_layout().bytes_per_block) /
                                 double(size_t{1} << 30);
        throw_error(
            "KV cache space {} GB holds {} blocks of {} tokens, but one sequence of max_model_len "
            "{} needs {} blocks ({:.3f} GB); raise VLLM_OPENVINO_KVCACHE_SPACE / --kv-cache-space "
            "or lower --max-model-len",
            space_gb, capacity.blocks_available, sched_config.block_size, max_model_len_,
            capacity.blocks_needed, needed_gb);
    }
    scheduler_ = std::make_unique<sched::Scheduler>(sched_config);
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

    auto request = std::make_unique<Request>();
    request->id = request_id;
    request->prompt = std::move(prompt.text);
    request->prompt_ids = std::move(prompt.token_ids);
    request->params = std::move(params);
    request->metrics.arrival_time = now();
    for (const std::string& word : request->params.bad_words) {
        // A bad word is banned both as written and after a space, as vLLM does.
        request->bad_words_ids.push_back(tokenizer_->encode(word, false));
        request->bad_words_ids.push_back(tokenizer_->encode(" " + word, false));
    }
    request->stop_checker = std::make_unique<sampling::StopChecker>(
        request->params, eos_ids_, static_cast<size_t>(max_model_len_));

    const SamplingParams& p = request->params;
    const uint64_t group = next_group_id_++;
    const size_t context_start =
        request->prompt_ids.size() - std::min(request->prompt_ids.size(), kDetokenizerContextIds);
    request->completions.resize(static_cast<size_t>(p.n));
    for (int i = 0; i < p.n; ++i) {
        Completion& c = request->completions[static_cast<size_t>(i)];
        c.index = i;
        c.seq_id = next_seq_id_++;
        if (p.seed) c.rng = sampling::RngState::from_seed(*p.seed + static_cast<uint64_t>(i));
        if (tokenizer_ && p.detokenize) {
            c.detokenizer.emplace(*tokenizer_, p.skip_special_tokens);
            c.detokenizer->prime(
                std::span<const int64_t>(request->prompt_ids).subspan(context_start));
        }
        sched::SequenceSpec spec;
        spec.seq_id = c.seq_id;
        spec.prompt_token_ids = request->prompt_ids;
        spec.max_total_tokens = static_cast<int>(request->prompt_ids.size()) + *p.max_tokens;
        spec.group_id = group;
        scheduler_->add_sequence(std::move(spec));
        seqs_.emplace(c.seq_id, SeqRef{request.get(), i});
    }
    requests_.emplace(request_id, std::move(request));
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
    const sched::SchedulerOutput& scheduled = scheduler_->schedule();
    note_scheduled(scheduled);
    lap(times.schedule);
    if (!scheduled.sequences.empty()) {
        const runner::LogitsView logits = runner_->run(build_model_input(scheduled));
        lap(times.model);
        sample_rows(scheduled, logits);
        lap(times.sample);
        update_after_sampling();
    }
    ++counters_.num_steps;
    counters_.max_step_sequences =
        std::max(counters_.max_step_sequences, scheduled.sequences.size());
    std::vector<RequestOutput> outputs = collect_outputs();
    lap(times.outputs);
    return outputs;
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
    for (size_t i = 0; i < seqs.size(); ++i) {
        const sched::ScheduledSequence& s = scheduled.sequences[i];
        seqs[i].token_ids.assign(s.token_ids.begin(), s.token_ids.end());
        seqs[i].past_len = s.past_len;
        seqs[i].block_table.assign(s.block_table.begin(), s.block_table.end());
        seqs[i].sample = s.sample;
    }
    return model_input_;
}

void LLMEngine::sample_rows(const sched::SchedulerOutput& scheduled,
                            const runner::LogitsView& logits) {
    sampler_rows_.clear();
    sampled_refs_.clear();
    for (const sched::ScheduledSequence& s : scheduled.sequences) {
        if (!s.sample) continue;
        const SeqRef ref = seqs_.at(s.seq_id);
        Request& request = *ref.request;
        Completion& c = request.completions[static_cast<size_t>(ref.completion)];
        sampling::SamplerRow row;
        row.params = &request.params;
        row.prompt_ids = request.prompt_ids;
        row.output_ids = c.output_ids;
        row.bad_words_ids = request.bad_words_ids;
        row.rng = request.params.seed ? &c.rng : nullptr;
        row.eos_ids = eos_ids_;
        sampler_rows_.push_back(row);
        sampled_refs_.push_back(ref);
    }
    if (sampler_rows_.size() != logits.rows) {
        throw_error("model runner returned {} logits rows for {} sampled sequences", logits.rows,
                    sampler_rows_.size());
    }
    if (sampler_rows_.empty()) return;
    // The sampler edits the runner's output rows in place; they are rewritten next run().
    sampler_.sample(std::span<float>(logits.data, logits.rows * logits.vocab), logits.vocab,
                    sampler_rows_, sampler_output_);
}

void LLMEngine::update_after_sampling() {
    if (sampled_refs_.empty()) return;
    sampled_pairs_.clear();
    for (size_t i = 0; i < sampled_refs_.size(); ++i) {
        const SeqRef ref = sampled_refs_[i];
        sampled_pairs_.emplace_back(ref.request->completions[ref.completion].seq_id,
                                    sampler_output_.rows[i].token_id);
    }
    scheduler_->update(sampled_pairs_);
    for (size_t i = 0; i < sampled_refs_.size(); ++i) {
        const SeqRef ref = sampled_refs_[i];
        append_token(*ref.request, ref.request->completions[ref.completion],
                     sampler_output_.rows[i], sampler_output_.top_of(i));
    }
}

void LLMEngine::append_token(Request& request, Completion& c, const sampling::SampledToken& sampled,
                             std::span<const sampling::LogprobEntry> top) {
    const int64_t token = sampled.token_id;
    c.output_ids.push_back(token);
    ++counters_.generation_tokens;
    const double t = now();
    if (request.metrics.first_token_time == 0.0) request.metrics.first_token_time = t;
    request.metrics.last_token_time = t;
    request.changed = true;

    if (sampled.has_logprobs) {
        auto decoded = [&](int64_t id) {
            const int64_t one[] = {id};
            return tokenizer_ ? tokenizer_->decode(one, false) : std::string();
        };
        PositionLogprobs entry;
        entry.chosen = {token, sampled.chosen.logprob, sampled.chosen.rank, decoded(token)};
        for (const sampling::LogprobEntry& e : top)
            entry.top.push_back({e.token_id, e.logprob, e.rank, decoded(e.token_id)});
        c.cumulative_logprob += sampled.chosen.logprob;
        c.logprobs.push_back(std::move(entry));
    }

    const sampling::StopChecker& checker = *request.stop_checker;
    sampling::StopStatus status = checker.check_token(
        token, c.output_ids.size(), request.prompt_ids.size() + c.output_ids.size());
    // A completion that ends on EOS or a stop token does not show that token's text,
    // unless include_stop_str_in_output asks for stop tokens.
    const bool ended_on_token = status.reason == sampling::FinishReason::stop;
    const bool show_token =
        !ended_on_token || (status.stop_token && request.params.include_stop_str_in_output);
    if (c.detokenizer && show_token) {
        const std::string delta = c.detokenizer->step(token);
        c.text += delta;
        if (!ended_on_token && !request.params.stop.empty()) {
            const sampling::StopStatus text_status = checker.check_text(c.text, delta.size());
            if (text_status.finished()) status = text_status;
        }
    }
    if (!status.finished()) return;
    if (status.stop_token) c.stop_reason_token = status.stop_token;
    if (status.stop_string >= 0)
        c.stop_reason_text = request.params.stop[static_cast<size_t>(status.stop_string)];
    finish_completion(c, std::string(sampling::to_string(status.reason)));
}

void LLMEngine::finish_completion(Completion& c, std::string reason) {
    c.finish_reason = std::move(reason);
    scheduler_->finish(c.seq_id);
    seqs_.erase(c.seq_id);
}

std::optional<RequestOutput> LLMEngine::make_output(Request& request) {
    const bool finished = request.finished();
    const OutputKind kind = request.params.output_kind;
    if (kind == OutputKind::final_only && !finished) return std::nullopt;
    RequestOutput out;
    out.request_id = request.id;
    // A stream of deltas carries the prompt once, in its first output: copying it into
    // every step's output would cost O(prompt) per running request per step.
    if (kind != OutputKind::delta || !request.prompt_reported) {
        out.prompt = request.prompt;
        out.prompt_token_ids = request.prompt_ids;
        request.prompt_reported = true;
    }
    out.finished = finished;
    out.metrics = request.metrics;
    if (finished) out.metrics.finished_time = now();
    for (Completion& c : request.completions) {
        const size_t releasable =
            std::max(c.emitted_bytes, request.stop_checker->emittable_bytes(c.text, c.finished()));
        const bool has_new =
            c.output_ids.size() > c.emitted_ids || (c.finished() && !c.finish_reported);
        if (kind == OutputKind::delta && !has_new) continue;
        CompletionOutput co;
        co.index = c.index;
        co.finish_reason = c.finish_reason;
        co.stop_reason_text = c.stop_reason_text;
        co.stop_reason_token = c.stop_reason_token;
        co.cumulative_logprob = c.cumulative_logprob;
        const size_t first_id = kind == OutputKind::delta ? c.emitted_ids : 0;
        const size_t first_byte = kind == OutputKind::delta ? c.emitted_bytes : 0;
        const size_t first_logprob = kind == OutputKind::delta ? c.emitted_logprobs : 0;
        co.text = c.text.substr(first_byte, releasable - first_byte);
        co.token_ids.assign(c.output_ids.begin() + static_cast<std::ptrdiff_t>(first_id),
                            c.output_ids.end());
        co.logprobs.assign(c.logprobs.begin() + static_cast<std::ptrdiff_t>(first_logprob),
                           c.logprobs.end());
        c.emitted_ids = c.output_ids.size();
        c.emitted_bytes = releasable;
        c.emitted_logprobs = c.logprobs.size();
        c.finish_reported = c.finished();
        out.outputs.push_back(std::move(co));
    }
    return out;
}

std::vector<RequestOutput> LLMEngine::collect_outputs() {
    std::vector<RequestOutput> outputs;
    std::vector<std::string> done;
    for (auto& [id, request] : requests_) {
        if (!request->changed) continue;
        request->changed = false;
        if (std::optional<RequestOutput> out = make_output(*request))
            outputs.push_back(std::move(*out));
        if (request->finished()) done.push_back(id);
    }
    for (const std::string& id : done) requests_.erase(id);
    return outputs;
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
