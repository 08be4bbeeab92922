#pragma once
// The engine: requests in, RequestOutputs out, one model step per step() call.
//
//   add_request ──► Scheduler (which sequences, how many tokens, which blocks)
//   step():  schedule ─► StepRunner.run ─► Sampler ─► Scheduler.update
//            ─► OutputProcessor (detokenize, stop checks) ─► RequestOutput per changed request
//
// Outputs are incremental: each holds what is new since the request's last output (see
// engine/output_processor.hpp); OutputKind::cumulative is built at the API edge (LLM).
// The engine gets its parts (runner, tokenizer, scheduler sizes) from engine/engine_parts.hpp,
// so tests can give it a runner with scripted logits instead of a model.
//
// Not thread-safe: one thread owns an engine (the server runs it on its own thread and
// talks to it through queues).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine_parts.hpp"
#include "engine/output_processor.hpp"
#include "engine/request.hpp"
#include "model/model_config.hpp"
#include "ovllm/config.hpp"
#include "ovllm/outputs.hpp"
#include "ovllm/sampling_params.hpp"
#include "runner/model_runner.hpp"
#include "sampling/sampler.hpp"
#include "scheduler/scheduler.hpp"
#include "spec_decode/ngram_proposer.hpp"
#include "structured_output/grammar_compiler.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ovllm::engine {

// A prompt as text, or as token ids (then `text` may be empty).
struct PromptInput {
    std::string text;
    std::vector<int64_t> token_ids;
};

// Wall time of each stage of step(), seconds summed over all steps so far: where a step's
// time goes (the model should dominate; the rest is ovllm's own overhead).
struct StepTimes {
    double schedule = 0.0;  // Scheduler::schedule (block allocation, prefix lookup)
    double model = 0.0;     // building the inputs and ModelRunner::run
    double sample = 0.0;    // Sampler::sample over every sampled row, grammar work excluded
    double grammar = 0.0;   // structured output: token masks and grammar advance (in sampler)
    double outputs = 0.0;   // scheduler update, detokenize, stop checks, RequestOutputs
    double total() const { return schedule + model + sample + grammar + outputs; }
};

// Counters and gauges for logs and /metrics.
struct EngineStats {
    size_t num_running = 0;
    size_t num_waiting = 0;
    double kv_cache_usage = 0.0;  // fraction of blocks in use, [0, 1]
    int num_blocks = 0;
    int num_free_blocks = 0;
    uint64_t prefix_cache_queries = 0;  // tokens looked up
    uint64_t prefix_cache_hits = 0;     // tokens found
    uint64_t num_preemptions = 0;
    uint64_t prompt_tokens = 0;      // computed prompt tokens (cached ones excluded)
    uint64_t generation_tokens = 0;  // sampled tokens
    // Speculative decoding (vLLM's spec_decode counters): steps of a sequence that carried
    // drafts, the drafts computed, and those the model accepted.
    uint64_t spec_num_drafts = 0;
    uint64_t spec_draft_tokens = 0;
    uint64_t spec_accepted_tokens = 0;
    uint64_t num_steps = 0;
    size_t max_step_sequences = 0;  // the most sequences one step has run
    StepTimes step_times;
};

class LLMEngine {
  public:
    // Loads the model and tokenizer, compiles, sizes the KV cache (load_engine_parts).
    // Throws ovllm::Error.
    explicit LLMEngine(EngineConfig config);
    // An engine over parts built elsewhere. `config` gives the seed, the sampler's threads
    // and the model name for messages. Throws ovllm::Error for a scheduler config that does
    // not hold one max_model_len sequence.
    LLMEngine(EngineConfig config, EngineParts parts);
    ~LLMEngine();
    LLMEngine(const LLMEngine&) = delete;
    LLMEngine& operator=(const LLMEngine&) = delete;

    // Validates and queues a request. Throws ovllm::Error for an empty or too long prompt,
    // max_tokens that cannot fit the context, bad sampling params or a duplicate id.
    void add_request(const std::string& request_id, PromptInput prompt, SamplingParams params);

    // Runs one scheduling step and returns the outputs of requests that changed: what is
    // new in each since its last output (final_only: the whole output, once, at the end).
    std::vector<RequestOutput> step();

    // Drops a request and frees its blocks; false when it is unknown or already finished.
    bool abort_request(const std::string& request_id);

    // Prefix-cache events (kv_cache/kv_events.hpp) since the last take, oldest first; none
    // are recorded until record_kv_events(true). For publishers of vLLM's KV events.
    void record_kv_events(bool on);
    std::vector<kv::KVCacheEvent> take_kv_events();
    // Empties the prefix cache (vLLM's reset_prefix_cache); false, changing nothing, while
    // requests are unfinished, since they hold KV blocks.
    bool reset_prefix_cache();

    bool has_unfinished_requests() const { return !requests_.empty(); }
    size_t num_unfinished_requests() const { return requests_.size(); }
    EngineStats stats() const;

    const EngineConfig& config() const { return config_; }
    const model::ModelConfig& model_config() const { return model_config_; }
    int max_model_len() const { return max_model_len_; }
    // Null when the model came without tokenizer files (token ids in and out only).
    const tokenizer::Tokenizer* tokenizer() const { return tokenizer_.get(); }
    const std::vector<int64_t>& eos_token_ids() const { return output_processor_.eos_ids(); }
    const StepRunner& runner() const { return *runner_; }

    // The grammar compiler of structured output (compiled once per schema text and cached);
    // built on the first request that asks for structured output. Throws ovllm::Error.
    structured::GrammarCompiler& grammar_compiler();

    // Seconds since the engine started (the clock of RequestMetrics).
    double now() const;

  private:
    void tokenize_prompt(PromptInput& prompt) const;
    void check_lengths(const std::string& request_id, size_t prompt_len,
                       SamplingParams& params) const;
    const runner::ModelInput& build_model_input(const sched::SchedulerOutput& scheduled);
    void note_scheduled(const sched::SchedulerOutput& scheduled);
    // Prompt logprobs from the runner's extra rows, for the requests that asked.
    void record_prompt_logprobs(const runner::LogitsView& logits);
    // Samples one token per sampling row into sampler_output_.
    void sample_rows(const sched::SchedulerOutput& scheduled, const runner::LogitsView& logits);
    // Hands the sampled tokens to the scheduler and the requests (detokenize, stop checks).
    void update_after_sampling();
    // Prompt-lookup drafts for every decoding sequence that may take them.
    void propose_drafts();
    // The tokens each sampled sequence keeps this step into kept_tokens_ / kept_counts_.
    void accept_drafts();

    EngineConfig config_;
    model::ModelConfig model_config_;
    int max_model_len_ = 0;
    std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
    std::unique_ptr<StepRunner> runner_;
    std::unique_ptr<sched::Scheduler> scheduler_;
    OutputProcessor output_processor_;
    sampling::Sampler sampler_;
    std::unique_ptr<structured::GrammarCompiler> grammar_compiler_;  // see grammar_compiler()
    std::chrono::steady_clock::time_point start_time_;

    RequestMap requests_;
    struct SeqRef {
        Request* request;
        int completion;
    };
    std::unordered_map<sched::SeqId, SeqRef> seqs_;
    sched::SeqId next_seq_id_ = 1;
    uint64_t next_group_id_ = 1;
    EngineStats counters_;

    // Reused every step so the steady state does not allocate.
    runner::ModelInput model_input_;
    struct PromptRows {  // extra logits rows of one request in this step
        Request* request;
        size_t first;  // prompt position of the first row
        size_t count;
        size_t extra_first;  // its first row among the runner's extra rows
    };
    std::vector<PromptRows> prompt_rows_;
    sampling::PromptLogprobs prompt_logprobs_;
    std::vector<sampling::SamplerRow> sampler_rows_;
    std::vector<float*> sampler_logits_;  // [sampler rows] each row's logits
    struct SampledSeq {                   // one sampled sequence of the step
        SeqRef ref;
        size_t first_row = 0;                     // its first sampler row
        std::vector<sched::TokenId> drafts;       // its drafts: one sampler row each, then one
        std::vector<int64_t> outputs_and_drafts;  // penalty history of its draft rows
    };
    std::vector<SampledSeq> sampled_;  // grows only: the first num_sampled_ are this step's
    size_t num_sampled_ = 0;
    sampling::SamplerOutput sampler_output_;
    std::vector<sched::TokenId> kept_tokens_;  // accepted drafts and sampled tokens, in order
    std::vector<size_t> kept_counts_;          // [sampled sequences] tokens each keeps
    spec::NgramConfig ngram_;                  // num_drafts 0: no speculative decoding
    std::vector<sched::TokenId> drafts_;
};

}  // namespace ovllm::engine
