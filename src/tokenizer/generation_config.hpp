#pragma once
// Stop tokens and sampling defaults of a model folder.
//
// Stop ids are merged in this order (as transformers and vLLM do):
//   1. generation_config.json "eos_token_id" (an int or a list of ints);
//   2. only when generation_config.json is absent or has no eos_token_id: config.json
//      "eos_token_id" (transformers builds the generation config from the model config then);
//   3. the tokenizer's EOS token, tokenizer_config.json "eos_token" (a string or
//      {"content": ...}) looked up in the vocabulary, when a tokenizer is given.
// The sampling defaults come from generation_config.json only.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>

#include "tokenizer/tokenizer.hpp"

namespace ovllm::tokenizer {

struct GenerationDefaults {
    std::set<int64_t> eos_token_ids;  // every id that ends generation
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::optional<int64_t> top_k;
    std::optional<double> repetition_penalty;
    std::optional<int64_t> max_new_tokens;
};

// Reads the files of `model_dir` that exist; malformed ones throw ovllm::Error naming the
// file and field.
GenerationDefaults load_generation_defaults(const std::filesystem::path& model_dir,
                                            const Tokenizer* tokenizer = nullptr);

}  // namespace ovllm::tokenizer
