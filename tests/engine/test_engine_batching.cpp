// End to end on SmolLM2-135M (f32, f32 KV): every way of batching gives the tokens of the
// prompts run one at a time.
#include <gtest/gtest.h>

#include "engine_fixture.hpp"

namespace ovllm::test {
namespace {

constexpr int kMaxTokens = 12;

TEST(EngineBatching, ThirtyTwoMixedPromptsMatchSingleRuns) {
    LLM llm(exact_config());
    const auto prompts = mixed_prompts(32);
    const auto params = greedy(kMaxTokens);
    const auto batched = token_ids_of(llm.generate(prompts, params));
    ASSERT_EQ(batched.size(), prompts.size());
    EXPECT_EQ(batched, run_one_at_a_time(llm, prompts, params));
    for (const auto& ids : batched) EXPECT_EQ(ids.size(), static_cast<size_t>(kMaxTokens));
    expect_all_blocks_free(llm.engine());
}

TEST(EngineBatching, ChunkedPrefillAtBudget64MatchesSingleRuns) {
    EngineConfig config = exact_config();
    config.max_num_batched_tokens = 64;
    LLM chunked(config);
    LLM reference(exact_config());
    const auto prompts = mixed_prompts(12);
    const auto params = greedy(kMaxTokens);
    const auto batched = token_ids_of(chunked.generate(prompts, params));
    EXPECT_EQ(batched, run_one_at_a_time(reference, prompts, params));
    expect_all_blocks_free(chunked.engine());
}

TEST(EngineBatching, PrefixCachingSharesALongPrefixAndReportsCachedTokens) {
    EngineConfig config = exact_config();
    config.enable_prefix_caching = true;
    LLM cached(config);
    LLM reference(exact_config());
    // ~200 tokens: six full blocks shared by every prompt.
    std::string prefix;
    for (int i = 0; i < 4; ++i) prefix += mixed_prompts(4)[static_cast<size_t>(i)] + "\n";
    std::vector<std::string> prompts;
    for (const auto& tail : {"Question one:", "A second, different question:", "Third:"})
        prompts.push_back(prefix + tail);
    const auto params = greedy(kMaxTokens);

    // The first prompt fills the cache; the later ones find the prefix there.
    const auto first = cached.generate(std::vector<std::string>{prompts[0]}, params);
    EXPECT_EQ(first[0].metrics.num_cached_tokens, 0);
    const auto rest = cached.generate(std::vector<std::string>{prompts[1], prompts[2]}, params);
    for (const auto& out : rest) {
        EXPECT_GE(out.metrics.num_cached_tokens, 64) << "the shared prefix spans several blocks";
        EXPECT_EQ(out.metrics.num_cached_tokens % 32, 0);
    }
    auto ids = token_ids_of(first);
    for (const auto& row : token_ids_of(rest)) ids.push_back(row);
    EXPECT_EQ(ids, run_one_at_a_time(reference, prompts, params));
    EXPECT_GT(cached.engine().stats().prefix_cache_hits, 0u);
    expect_all_blocks_free(cached.engine());
}

TEST(EngineBatching, PreemptionUnderATinyKvCacheGivesTheSameTokens) {
    // 0.03 GB holds 21 blocks of 32 tokens: 16 prompts of up to ~500 tokens cannot all run.
    EngineConfig config = exact_config(0.03);
    config.max_model_len = 512;
    LLM small(config);
    LLM reference(exact_config());
    const auto prompts = mixed_prompts(16);
    const auto params = greedy(kMaxTokens);
    const auto batched = token_ids_of(small.generate(prompts, params));
    EXPECT_GT(small.engine().stats().num_preemptions, 0u) << "the cache was meant to run out";
    EXPECT_EQ(batched, run_one_at_a_time(reference, prompts, params));
    expect_all_blocks_free(small.engine());
}

TEST(EngineBatching, ParallelSamplesShareThePromptAndMatchGreedy) {
    LLM llm(exact_config());
    SamplingParams params = greedy(kMaxTokens);
    params.n = 3;
    const auto prompts = mixed_prompts(2);
    const auto outputs = llm.generate(prompts, params);
    const auto single = run_one_at_a_time(llm, prompts, greedy(kMaxTokens));
    ASSERT_EQ(outputs.size(), 2u);
    for (size_t p = 0; p < outputs.size(); ++p) {
        ASSERT_EQ(outputs[p].outputs.size(), 3u);
        for (const auto& c : outputs[p].outputs) EXPECT_EQ(c.token_ids, single[p]);
    }
    expect_all_blocks_free(llm.engine());
}

TEST(EngineBatching, SeededSamplingDoesNotDependOnTheBatch) {
    LLM llm(exact_config());
    SamplingParams params;
    params.temperature = 0.9f;
    params.top_p = 0.95f;
    params.seed = 1234;
    params.max_tokens = kMaxTokens;
    params.ignore_eos = true;
    const auto prompts = mixed_prompts(6);
    const auto alone = llm.generate(std::vector<std::string>{prompts[3]}, params);
    const auto together = llm.generate(prompts, params);
    EXPECT_EQ(alone[0].outputs[0].token_ids, together[3].outputs[0].token_ids);
}

TEST(EngineBatching, AbortFreesEveryBlock) {
    LLM llm(exact_config());
    engine::LLMEngine& engine = llm.engine();
    const auto prompts = mixed_prompts(8);
    for (size_t i = 0; i < prompts.size(); ++i)
        engine.add_request("r" + std::to_string(i), {prompts[i], {}}, greedy(64));
    for (int step = 0; step < 3; ++step) engine.step();
    EXPECT_LT(engine.stats().num_free_blocks, engine.stats().num_blocks);
    for (size_t i = 0; i < prompts.size(); i += 2)
        EXPECT_TRUE(engine.abort_request("r" + std::to_string(i)));
    EXPECT_FALSE(engine.abort_request("r0")) << "already aborted";
    while (engine.has_unfinished_requests()) engine.step();
    expect_all_blocks_free(engine);
}

}  // namespace
}  // namespace ovllm::test
