#pragma once
// The sampler: logits rows -> one token per row, plus logprobs when asked. It knows
// nothing of blocks, models or tokenizers; the caller hands it plain per-row inputs.
//
// Per row, in order (vLLM v1's order):
//   structured-output grammar mask (rows with a grammar; every row's mask at once, on the pool)
//   -> raw logprobs snapshot (only when params.logprobs is set)
//   -> allowed_token_ids -> bad words -> min_tokens -> logit_bias
//   -> repetition, frequency, presence penalties
//   -> greedy argmax (temperature < 1e-5)
//      or temperature -> min_p -> top_k -> top_p -> draw with the row's generator.
// After the draw, grammar rows advance their grammar past the chosen token (again all rows at
// once). Logprobs are those of the raw logits (vLLM's default logprobs_mode "raw_logprobs"): the
// chosen token's logprob and rank, and the top-N, all before penalties and temperature.
//
// Where this differs from vLLM, on purpose:
// - The draw walks the kept tokens' cumulative mass to u * total with one uniform u per
//   step from a counter-based generator (vLLM races exponential variates on the GPU); the
//   distribution is the same, the individual tokens for a given seed are not.
// - Top-p keeps every token tied with the last one kept, so ties never depend on sort order.
// - Greedy argmax and top-N ties go to the lower token id.
// - The repetition penalty divides (HF's arithmetic) rather than multiplying by 1/penalty.
#include <cstdint>
#include <span>
#include <vector>

#include "ovllm/sampling_params.hpp"
#include "sampling/logits_processors.hpp"
#include "sampling/logprobs.hpp"
#include "sampling/rng.hpp"
#include "sampling/truncation.hpp"
#include "sampling/worker_pool.hpp"
#include "structured_output/sequence_grammar.hpp"

namespace ovllm::sampling {

// One row of the batch: what the sampler needs to know about its sequence.
struct SamplerRow {
    const SamplingParams* params = nullptr;
    std::span<const int64_t> prompt_ids;
    std::span<const int64_t> output_ids;  // generated so far, not counting this step's token
    // params.bad_words as token-id sequences (the caller tokenizes them once per request).
    std::span<const std::vector<int64_t>> bad_words_ids;
    // The sequence's own generator for seeded requests, advanced by one per random draw.
    // nullptr: the request is unseeded and draws from the sampler's engine generator.
    RngState* rng = nullptr;
    std::span<const int64_t> eos_ids;  // masked until min_tokens (unless ignore_eos)
    // The sequence's structured-output state; nullptr: unconstrained. Advanced in place.
    structured::SequenceGrammar* grammar = nullptr;
};

struct SampledToken {
    int64_t token_id = 0;
    bool has_logprobs = false;  // params.logprobs was set
    LogprobEntry chosen;        // the sampled token's raw logprob and rank
    uint32_t top_offset = 0;    // its top-N in SamplerOutput::top
    uint32_t top_count = 0;
    bool grammar_terminated = false;  // the grammar accepted its stop token: the sequence ends
    bool grammar_rejected = false;    // the grammar allowed no token (e.g. min_tokens hid EOS)
};

// Reused across steps: clear() keeps capacity, so steady-state steps do not allocate.
struct SamplerOutput {
    std::vector<SampledToken> rows;  // [rows]
    std::vector<LogprobEntry> top;   // every row's top-N, back to back

    std::span<const LogprobEntry> top_of(size_t row) const {
        return std::span<const LogprobEntry>(top).subspan(rows[row].top_offset,
                                                          rows[row].top_count);
    }
};

class Sampler {
  public:
    // `engine_seed` keys the generator of unseeded requests (EngineConfig::seed).
    // `num_threads` rows are sampled at once (1 = on the calling thread); the results do
    // not depend on it.
    explicit Sampler(uint64_t engine_seed = 0, size_t num_threads = 1);

    // logits: [rows.size(), vocab] row-major; rows are modified in place. Fills `out`.
    // Random draws are taken in row order on the calling thread (each seeded row's
    // RngState advances by one; unseeded rows draw from the engine generator), then rows
    // run in parallel. Throws ovllm::Error when the sizes disagree or a row has no params.
    void sample(std::span<float> logits, size_t vocab, std::span<const SamplerRow> rows,
                SamplerOutput& out);
    // The same with each row's logits ([vocab] floats) wherever they lie: row_logits[r] for
    // rows[r] (speculative decoding samples the runner's draft rows next to its last rows).
    void sample(std::span<float* const> row_logits, size_t vocab, std::span<const SamplerRow> rows,
                SamplerOutput& out);

    // Wall seconds the last sample() spent in grammar work (masks and token acceptance).
    double last_grammar_seconds() const { return grammar_seconds_; }

  private:
    // Buffers of one worker thread.
    struct Scratch {
        ProcessorScratch processors;
        TruncationScratch truncation;
        std::vector<float> raw;        // [vocab] the row before processing, for logprobs
        TopScratch top;                // top-N logprobs selection
        std::vector<int32_t> bitmask;  // [vocab / 32] the grammar's allowed tokens
    };

    void mask_grammar_rows(std::span<float* const> row_logits, size_t vocab,
                           std::span<const SamplerRow> rows);
    void advance_grammar_rows(std::span<const SamplerRow> rows, SamplerOutput& out);

    SampledToken sample_row(std::span<float> row, const SamplerRow& input, double uniform,
                            Scratch& scratch, std::span<LogprobEntry> top) const;

    RngState engine_rng_;
    WorkerPool pool_;
    std::vector<Scratch> scratch_;      // [pool_.size()]
    std::vector<double> uniforms_;      // [rows] this step's draws, taken in row order
    std::vector<float*> row_logits_;    // [rows] the contiguous overload's row pointers
    std::vector<size_t> grammar_rows_;  // this step's rows with a grammar
    double grammar_seconds_ = 0.0;
};

// Checks the token ids in `params` against the vocabulary size (logit_bias keys,
// allowed_token_ids, stop_token_ids); call it when a request arrives.
void validate_for_vocab(const SamplingParams& params, size_t vocab);

}  // namespace ovllm::sampling
