#include "structured_output/sequence_grammar.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <optional>

#include <xgrammar/matcher.h>

#include "structured_output/grammar_compiler_impl.hpp"
#include "util/error.hpp"

namespace ovllm::structured {

struct SequenceGrammar::Impl {
    GrammarFuture pending;                           // until the first use
    std::shared_ptr<const CompiledGrammar> grammar;  // keeps the compiled grammar alive
    std::optional<xgrammar::GrammarMatcher> matcher;

    xgrammar::GrammarMatcher& ready() {
        if (!matcher) {
            if (!grammar) grammar = pending.get();
            matcher.emplace(grammar->impl().compiled);
        }
        return *matcher;
    }
};

SequenceGrammar::SequenceGrammar(std::shared_ptr<const CompiledGrammar> grammar)
    : impl_(std::make_unique<Impl>()) {
    impl_->grammar = std::move(grammar);
}
SequenceGrammar::SequenceGrammar(GrammarFuture grammar) : impl_(std::make_unique<Impl>()) {
    impl_->pending = std::move(grammar);
}
SequenceGrammar::~SequenceGrammar() = default;
SequenceGrammar::SequenceGrammar(SequenceGrammar&&) noexcept = default;
SequenceGrammar& SequenceGrammar::operator=(SequenceGrammar&&) noexcept = default;

size_t SequenceGrammar::mask_logits(std::span<float> row, std::vector<int32_t>& bitmask) {
    xgrammar::GrammarMatcher& matcher = impl_->ready();
    const int vocab = impl_->grammar->impl().vocab_size;
    if (row.size() != static_cast<size_t>(vocab))
        throw_error("structured output: logits row of {} values for a grammar over {} tokens",
                    row.size(), vocab);
    bitmask.resize(static_cast<size_t>(xgrammar::GetBitmaskSize(vocab)));
    // xgrammar fills a DLPack int32 tensor of shape [words]; bit i of word w allows token
    // 32 * w + i.
    int64_t shape[] = {static_cast<int64_t>(bitmask.size())};
    DLTensor tensor{};
    tensor.data = bitmask.data();
    tensor.device = DLDevice{kDLCPU, 0};
    tensor.ndim = 1;
    tensor.dtype = xgrammar::GetBitmaskDLType();
    tensor.shape = shape;
    const bool masks_some = matcher.FillNextTokenBitmask(&tensor);
    if (!masks_some) return row.size();

    constexpr float kMasked = -std::numeric_limits<float>::infinity();
    size_t allowed = 0;
    for (size_t w = 0; w < bitmask.size(); ++w) {
        const size_t base = 32 * w;
        const size_t end = std::min(base + 32, row.size());
        const uint32_t in_row = end - base == 32 ? 0xFFFFFFFFu : (1u << (end - base)) - 1;
        const uint32_t bits = static_cast<uint32_t>(bitmask[w]) & in_row;
        allowed += static_cast<size_t>(std::popcount(bits));
        if (bits == in_row) continue;
        if (bits == 0) {  // the usual word: a grammar state allows few tokens
            std::fill(row.begin() + static_cast<ptrdiff_t>(base),
                      row.begin() + static_cast<ptrdiff_t>(end), kMasked);
            continue;
        }
        for (size_t t = base; t < end; ++t)
            if ((bits >> (t - base) & 1u) == 0) row[t] = kMasked;
    }
    return allowed;
}

bool SequenceGrammar::accept(int64_t token) {
    if (token < 0 || token > std::numeric_limits<int32_t>::max()) return false;
    return impl_->ready().AcceptToken(static_cast<int32_t>(token));
}

bool SequenceGrammar::terminated() const {
    return impl_->matcher && impl_->matcher->IsTerminated();
}

}  // namespace ovllm::structured
