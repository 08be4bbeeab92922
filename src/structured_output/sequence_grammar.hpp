#pragma once
// Structured output, decode side: one sequence's position in its grammar. Each step the
// sampler asks for the tokens the grammar allows next (masking the rest of the logits row),
// then hands back the token it sampled.
//
// Not thread-safe: one sequence is touched by one thread at a time (the sampler gives each
// row to one worker).
#include <cstdint>
#include <future>
#include <memory>
#include <span>
#include <vector>

namespace ovllm::structured {

class CompiledGrammar;
using GrammarFuture = std::shared_future<std::shared_ptr<const CompiledGrammar>>;

class SequenceGrammar {
  public:
    explicit SequenceGrammar(std::shared_ptr<const CompiledGrammar> grammar);
    // The grammar may still be compiling: the first mask waits for it (the prompt's prefill
    // runs meanwhile).
    explicit SequenceGrammar(GrammarFuture grammar);
    ~SequenceGrammar();
    SequenceGrammar(SequenceGrammar&&) noexcept;
    SequenceGrammar& operator=(SequenceGrammar&&) noexcept;

    // Sets every logit the grammar forbids next to -inf. `row` is [logits width];
    // `bitmask` is the caller's scratch, resized to one bit per token. Returns the number
    // of tokens left allowed (row.size() when nothing was masked).
    size_t mask_logits(std::span<float> row, std::vector<int32_t>& bitmask);

    // Advances past `token`. False when the grammar does not allow it (the state is then
    // unchanged).
    bool accept(int64_t token);

    // The grammar reached its end and accepted a stop token: nothing more may follow.
    bool terminated() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ovllm::structured
