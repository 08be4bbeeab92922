#pragma once
// Shared helpers for the engine tests: SmolLM2-135M in f32 with f32 KV (exact), prompts
// of mixed lengths, and runs of one prompt at a time to compare batched runs against.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/llm_engine.hpp"
#include "ovllm/llm.hpp"
#include "test_paths.hpp"

namespace ovllm::test {

inline std::string smollm2_dir() {
    return (models_dir() / "smollm2-135m").string();
}

// f32 inference and f32 KV: batched and single runs must then agree token for token.
inline EngineConfig exact_config(double kv_space_gb = 0.25) {
    EngineConfig config;
    config.model = smollm2_dir();
    config.dtype = "f32";
    config.kv_cache_dtype = "f32";
    config.kv_cache_space_gb = kv_space_gb;
    config.max_model_len = 1024;
    return config;
}

inline SamplingParams greedy(int max_tokens) {
    SamplingParams params;
    params.temperature = 0.0f;
    params.max_tokens = max_tokens;
    params.ignore_eos = true;
    return params;
}

// `count` prompts of 2 to 25 sentences each: from ~15 to ~350 tokens.
inline std::vector<std::string> mixed_prompts(size_t count) {
    static const std::vector<std::string> sentences = {
        "The quick brown fox jumps over the lazy dog.",
        "In 1969, astronauts first walked on the Moon.",
        "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n",
        "Photosynthesis turns light, water and carbon dioxide into sugar.",
        "The capital of France is Paris, and the capital of Italy is",
        "Once upon a time, in a small village by the sea, there lived",
        "SELECT name, price FROM products WHERE price > 100 ORDER BY",
        "A prime number has exactly two divisors: one and itself.",
    };
    std::vector<std::string> prompts;
    for (size_t i = 0; i < count; ++i) {
        std::string text;
        const size_t pieces = 1 + (i * 7) % 24;
        for (size_t k = 0; k < pieces; ++k) text += sentences[(i + k * 3) % sentences.size()] + " ";
        text += sentences[i % sentences.size()];
        prompts.push_back(text);
    }
    return prompts;
}

inline std::vector<std::vector<int64_t>> token_ids_of(const std::vector<RequestOutput>& outputs) {
    std::vector<std::vector<int64_t>> ids;
    for (const RequestOutput& out : outputs)
        for (const CompletionOutput& c : out.outputs) ids.push_back(c.token_ids);
    return ids;
}

// Each prompt alone through a fresh engine step loop.
inline std::vector<std::vector<int64_t>> run_one_at_a_time(LLM& llm,
                                                           const std::vector<std::string>& prompts,
                                                           const SamplingParams& params) {
    std::vector<std::vector<int64_t>> ids;
    for (const std::string& prompt : prompts) {
        const auto out = llm.generate(std::vector<std::string>{prompt}, params);
        for (const auto& row : token_ids_of(out)) ids.push_back(row);
    }
    return ids;
}

inline void expect_all_blocks_free(engine::LLMEngine& engine) {
    const engine::EngineStats stats = engine.stats();
    EXPECT_EQ(stats.num_free_blocks, stats.num_blocks);
    EXPECT_EQ(stats.num_running, 0u);
    EXPECT_EQ(stats.num_waiting, 0u);
    EXPECT_FALSE(engine.has_unfinished_requests());
}

}  // namespace ovllm::test
