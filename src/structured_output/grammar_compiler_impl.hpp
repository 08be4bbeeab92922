#pragma once
// What CompiledGrammar holds; included only by this folder's sources (it needs xgrammar).
#include <xgrammar/compiler.h>

#include "structured_output/grammar_compiler.hpp"

namespace ovllm::structured {

struct CompiledGrammar::Impl {
    xgrammar::CompiledGrammar compiled{xgrammar::NullObj{}};
    int vocab_size = 0;  // the logits width the masks cover
};

}  // namespace ovllm::structured
