// Speculative decoding with prompt lookup, without a model: the n-gram proposer on its own,
// then the engine over a scripted runner. Greedy output must be the same token for token with
// and without drafts (stops and max_tokens inside an accepted run included), and sampled
// output must keep plain decoding's distribution even when the drafts point elsewhere.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "engine_fixture.hpp"
#include "scripted_engine.hpp"
#include "spec_decode/ngram_proposer.hpp"

namespace ovllm::test {
namespace {

using Ids = std::vector<int64_t>;

Ids propose(const Ids& history, size_t drafts, size_t min_ngram, size_t max_ngram) {
    Ids out{-1};  // cleared by the proposer
    spec::propose_ngram_drafts(history, {drafts, min_ngram, max_ngram}, out);
    return out;
}

TEST(NgramProposer, CopiesWhatFollowedTheLongestMatchingSuffix) {
    // Suffix [1 2 3] occurs at 0 (followed by 9 9) and [2 3] also at 5 (followed by 7): the
    // longest n-gram wins.
    const Ids history{1, 2, 3, 9, 9, 2, 3, 7, 4, 1, 2, 3};
    EXPECT_EQ(propose(history, 2, 1, 3), (Ids{9, 9}));
    EXPECT_EQ(propose(history, 2, 1, 2), (Ids{7, 4})) << "[2 3]: its latest earlier match";
    EXPECT_EQ(propose(history, 10, 3, 3), (Ids{9, 9, 2, 3, 7, 4, 1, 2, 3}))
        << "up to the end of the history, no further";
}

TEST(NgramProposer, NothingWithoutAnEarlierMatch) {
    EXPECT_TRUE(propose({1, 2, 3, 4}, 3, 1, 3).empty());
    EXPECT_TRUE(propose({5}, 3, 1, 3).empty());
    EXPECT_TRUE(propose({}, 3, 1, 3).empty());
    EXPECT_TRUE(propose({1, 2, 1, 2}, 0, 1, 3).empty()) << "no drafts asked";
    EXPECT_TRUE(propose({3, 1, 2, 4, 1, 2}, 3, 3, 4).empty()) << "only a 2-gram matches";
    EXPECT_EQ(propose({3, 1, 2, 4, 1, 2}, 3, 2, 4), (Ids{4, 1, 2}));
}

// Next token from (position, last): a cycle through "abcde" that every 7th position breaks
// with 'z', so prompt-lookup drafts are often right and sometimes wrong.
void cycle_with_breaks(int64_t position, int64_t last, std::span<float> row) {
    const std::string cycle = "abcde";
    const size_t at = cycle.find(static_cast<char>(last - letter_id('a') + 'a'));
    const char next = position % 7 == 0 ? 'z' : cycle[at == std::string::npos ? 0 : (at + 1) % 5];
    row[static_cast<size_t>(letter_id(next))] = kPeak;
}

SpeculativeConfig ngram(int drafts, int min_ngram, int max_ngram) {
    return {"ngram", drafts, max_ngram, min_ngram};
}

struct Outcome {
    std::map<std::string, Ids> ids;
    std::map<std::string, std::string> finish;
    engine::EngineStats stats;
};

// Three requests at once: plain, one with a stop string, one with a max_tokens that ends
// inside a run of accepted drafts.
Outcome run_three(const SpeculativeConfig& speculative) {
    ScriptedEngineOptions options;
    options.speculative = speculative;
    auto engine = scripted_engine(cycle_with_breaks, options);
    SamplingParams stop = greedy(40);
    stop.stop = {"zab"};
    engine->add_request("plain", {{}, letter_ids("abcdeabcde")}, greedy(45));
    engine->add_request("stop", {{}, letter_ids("eabcdzab")}, stop);
    engine->add_request("short", {{}, letter_ids("bcdeabcd")}, greedy(11));
    Outcome run;
    while (engine->has_unfinished_requests()) {
        for (const RequestOutput& out : engine->step()) {
            for (const CompletionOutput& c : out.outputs) {
                Ids& ids = run.ids[out.request_id];
                ids.insert(ids.end(), c.token_ids.begin(), c.token_ids.end());
                if (c.finish_reason) run.finish[out.request_id] = *c.finish_reason;
            }
        }
    }
    run.stats = engine->stats();
    expect_all_blocks_free(*engine);
    return run;
}

TEST(SpeculativeDecoding, GreedyOutputIsTheSameWithDrafts) {
    const Outcome plain = run_three({});
    EXPECT_EQ(plain.stats.spec_num_drafts, 0u);
    EXPECT_EQ(plain.finish.at("stop"), "stop");
    EXPECT_EQ(plain.ids.at("short").size(), 11u);
    for (const SpeculativeConfig& config : {ngram(4, 1, 3), ngram(2, 2, 2), ngram(8, 1, 5)}) {
        const Outcome drafted = run_three(config);
        EXPECT_EQ(drafted.ids, plain.ids) << config.num_speculative_tokens << " drafts";
        EXPECT_EQ(drafted.finish, plain.finish);
        // Both outcomes happened: drafts accepted, and drafts rejected at a break.
        EXPECT_GT(drafted.stats.spec_accepted_tokens, 0u);
        EXPECT_LT(drafted.stats.spec_accepted_tokens, drafted.stats.spec_draft_tokens);
        EXPECT_LT(drafted.stats.num_steps, plain.stats.num_steps) << "fewer steps for the same";
    }
}

TEST(SpeculativeDecoding, SampledTokensKeepTheirDistribution) {
    // After 'a' comes 'b' with probability 0.9 and 'a' again with 0.1, and the other way
    // round after 'b'. The prompt "aabb..." repeats every other token, so drafts copied from
    // it repeat half the time: keeping a draft more often than the model draws it raises the
    // share of repeats in the output above 0.1.
    const LogitsScript alternate = [](int64_t, int64_t last, std::span<float> row) {
        const int64_t other = last == letter_id('a') ? letter_id('b') : letter_id('a');
        row[static_cast<size_t>(other)] = kPeak + std::log(9.0f);
        row[static_cast<size_t>(last)] = kPeak;
    };
    ScriptedEngineOptions options;
    options.speculative = ngram(4, 1, 2);
    options.max_num_seqs = 16;
    options.num_blocks = 256;
    auto engine = scripted_engine(alternate, options);
    constexpr int kRequests = 128;
    constexpr int kTokens = 8;
    const std::vector<int64_t> prompt = letter_ids("aabbaabbaabbaabb");
    for (int i = 0; i < kRequests; ++i) {
        SamplingParams params = greedy(kTokens);
        params.temperature = 1.0f;
        params.seed = static_cast<uint64_t>(i) + 1;
        engine->add_request(std::to_string(i), {{}, prompt}, params);
    }
    std::map<std::string, Ids> outputs;
    while (engine->has_unfinished_requests()) {
        for (const RequestOutput& out : engine->step()) {
            const Ids& ids = out.outputs.at(0).token_ids;
            outputs[out.request_id].insert(outputs[out.request_id].end(), ids.begin(), ids.end());
        }
    }
    EXPECT_GT(engine->stats().spec_accepted_tokens, 0u);
    double draws = 0;
    double repeats = 0;
    for (const auto& [id, ids] : outputs) {
        ASSERT_EQ(ids.size(), size_t{kTokens});
        int64_t last = prompt.back();
        for (const int64_t token : ids) {
            draws += 1;
            repeats += token == last;
            last = token;
        }
    }
    // Binomial(1024, 0.1): 5 standard deviations (48 tokens) either way.
    EXPECT_NEAR(repeats, 0.1 * draws, 5 * std::sqrt(draws * 0.1 * 0.9));
    expect_all_blocks_free(*engine);
}

}  // namespace
}  // namespace ovllm::test
