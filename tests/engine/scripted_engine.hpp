#pragma once
// An LLMEngine without a model: a StepRunner whose logits come from a script, the letter
// tokenizer (tests/letter_tokenizer.hpp) and a small KV cache, so output bookkeeping (deltas,
// stop strings, n > 1, abort, min_tokens, speculative decoding) runs in microseconds.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine_parts.hpp"
#include "engine/llm_engine.hpp"
#include "letter_tokenizer.hpp"
#include "util/error.hpp"

namespace ovllm::test {

// Fills the logits row of a sampled sequence. `position`: the index the next token will
// have (prompt + output tokens so far); `last`: the sequence's last token.
using LogitsScript = std::function<void(int64_t position, int64_t last, std::span<float> row)>;

class ScriptedRunner final : public engine::StepRunner {
  public:
    ScriptedRunner(LogitsScript script, int block_size, size_t num_blocks)
        : script_(std::move(script)), block_size_(block_size), num_blocks_(num_blocks) {}

    // Checks what the real runner checks (block tables cover past + new tokens, ids in
    // range), so a bookkeeping error in the engine fails here as it would on a model.
    runner::LogitsView run(const runner::ModelInput& input) override {
        if (input.sequences.empty()) throw_error("scripted runner: empty step");
        size_t rows = 0;
        size_t extra = 0;
        for (const runner::SequenceInput& s : input.sequences) {
            rows += s.sample;
            extra += s.extra_logits_count;
        }
        const auto vocab = static_cast<size_t>(kLetterVocabSize);
        logits_.assign((rows + extra) * vocab, 0.0f);
        size_t row = 0;
        size_t extra_row = rows;  // the extra rows follow the sampled ones, as the runner's
        for (const runner::SequenceInput& s : input.sequences) {
            const int64_t end = s.past_len + static_cast<int64_t>(s.token_ids.size());
            const auto needed = static_cast<size_t>((end + block_size_ - 1) / block_size_);
            if (s.token_ids.empty() || s.block_table.size() < needed)
                throw_error("scripted runner: {} blocks for {} tokens", s.block_table.size(), end);
            for (const int32_t b : s.block_table)
                if (b < 0 || static_cast<size_t>(b) >= num_blocks_)
                    throw_error("scripted runner: block {} out of range", b);
            if (s.extra_logits_begin + s.extra_logits_count > s.token_ids.size())
                throw_error("scripted runner: extra rows outside the step's tokens");
            for (size_t i = 0; i < s.extra_logits_count; ++i, ++extra_row) {
                const size_t at = s.extra_logits_begin + i;
                script_(s.past_len + static_cast<int64_t>(at) + 1, s.token_ids[at],
                        std::span<float>(logits_).subspan(extra_row * vocab, vocab));
            }
            if (!s.sample) continue;
            script_(end, s.token_ids.back(), std::span<float>(logits_).subspan(row * vocab, vocab));
            ++row;
        }
        ++runs_;
        return {logits_.data(), rows, vocab, extra};
    }
    int block_size() const override { return block_size_; }
    size_t num_blocks() const override { return num_blocks_; }
    std::vector<runner::OpTime> op_times() const override { return {}; }

  private:
    LogitsScript script_;
    int block_size_;
    size_t num_blocks_;
    std::vector<float> logits_;  // [rows, vocab]
    size_t runs_ = 0;
};

// Logit of the chosen token: far enough above the others' 0 that greedy and any
// temperature up to 1 pick it (exp(-30) ~ 1e-13 for each other token).
inline constexpr float kPeak = 30.0f;

// Greedy picks text[position - prompt_len] (the last character again past the end).
inline LogitsScript spell(size_t prompt_len, std::vector<int64_t> ids) {
    return [prompt_len, ids = std::move(ids)](int64_t position, int64_t, std::span<float> row) {
        const size_t i = std::min(static_cast<size_t>(position) - prompt_len, ids.size() - 1);
        row[static_cast<size_t>(ids[i])] = kPeak;
    };
}

struct ScriptedEngineOptions {
    int block_size = 4;  // small, so sequences cross blocks
    int num_blocks = 64;
    int max_model_len = 128;
    int max_num_seqs = 8;
    SpeculativeConfig speculative;  // off unless num_speculative_tokens is set
};

inline std::unique_ptr<engine::LLMEngine> scripted_engine(LogitsScript script,
                                                          ScriptedEngineOptions options = {}) {
    engine::EngineParts parts;
    parts.model_config.vocab_size = kLetterVocabSize;
    parts.tokenizer = std::make_unique<tokenizer::Tokenizer>(letter_tokenizer());
    parts.eos_token_ids = {kLetterEos};
    parts.runner = std::make_unique<ScriptedRunner>(std::move(script), options.block_size,
                                                    static_cast<size_t>(options.num_blocks));
    parts.scheduler.block_size = options.block_size;
    parts.scheduler.num_blocks = options.num_blocks;
    parts.scheduler.max_num_seqs = options.max_num_seqs;
    parts.scheduler.max_num_batched_tokens = 64;
    parts.scheduler.max_model_len = options.max_model_len;
    EngineConfig config;
    config.model = "scripted";
    config.num_threads = 1;
    config.speculative_config = options.speculative;
    return std::make_unique<engine::LLMEngine>(config, std::move(parts));
}

}  // namespace ovllm::test
