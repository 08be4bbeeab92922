#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "sampling/sampler.hpp"
#include "util/error.hpp"

namespace {

using namespace ovllm::sampling;
using ovllm::SamplingParams;
using Ids = std::vector<int64_t>;

// Reference log-softmax in double.
std::vector<double> log_softmax(const std::vector<float>& row) {
    double max = -1e300;
    for (const float v : row) max = std::max(max, static_cast<double>(v));
    double sum = 0.0;
    for (const float v : row) sum += std::exp(v - max);
    std::vector<double> out;
    for (const float v : row) out.push_back(v - max - std::log(sum));
    return out;
}

std::vector<double> softmax(const std::vector<float>& row, double temperature) {
    double max = -1e300;
    for (const float v : row) max = std::max(max, static_cast<double>(v));
    double sum = 0.0;
    std::vector<double> out;
    for (const float v : row) out.push_back(std::exp((v - max) / temperature));
    for (const double p : out) sum += p;
    for (double& p : out) p /= sum;
    return out;
}

int64_t sample_one(Sampler& sampler, std::vector<float> row, const SamplingParams& params,
                   RngState* rng = nullptr) {
    SamplerRow input;
    input.params = &params;
    input.rng = rng;
    SamplerOutput out;
    sampler.sample(row, row.size(), std::span<const SamplerRow>(&input, 1), out);
    return out.rows.at(0).token_id;
}

// Counts of `draws` samples of one row with a seeded generator.
std::vector<int> histogram(const std::vector<float>& row, const SamplingParams& params, int draws) {
    Sampler sampler;
    RngState rng = RngState::from_seed(1234);
    std::vector<int> counts(row.size(), 0);
    std::vector<float> scratch_row(row.size());
    SamplerRow input;
    input.params = &params;
    input.rng = &rng;
    SamplerOutput out;
    for (int i = 0; i < draws; ++i) {
        scratch_row = row;
        sampler.sample(scratch_row, row.size(), std::span<const SamplerRow>(&input, 1), out);
        ++counts.at(static_cast<size_t>(out.rows[0].token_id));
    }
    return counts;
}

// Pearson chi-square of the counts against `expected` probabilities; tokens with
// probability 0 must never be drawn.
double chi_square(const std::vector<int>& counts, const std::vector<double>& expected, int draws) {
    double chi = 0.0;
    for (size_t i = 0; i < counts.size(); ++i) {
        if (expected[i] == 0.0) {
            EXPECT_EQ(counts[i], 0) << "token " << i << " was truncated but drawn";
            continue;
        }
        const double e = expected[i] * draws;
        chi += (counts[i] - e) * (counts[i] - e) / e;
    }
    return chi;
}

TEST(Sampler, GreedyTakesTheLowestIdAmongTies) {
    Sampler sampler;
    SamplingParams params;
    params.temperature = 0.0f;
    params.top_k = 1;  // ignored when greedy
    EXPECT_EQ(sample_one(sampler, {1.0f, 3.0f, 3.0f, 2.0f}, params), 1);
    params.logit_bias = {{3, 1.5f}};
    EXPECT_EQ(sample_one(sampler, {1.0f, 3.0f, 3.0f, 2.0f}, params), 3);
}

TEST(Sampler, GreedySeesPenaltiesAndMasks) {
    Sampler sampler;
    SamplingParams params;
    params.temperature = 0.0f;
    params.repetition_penalty = 4.0f;
    SamplerRow input;
    input.params = &params;
    const Ids output{1};
    input.output_ids = output;
    std::vector<float> row{1.0f, 3.0f, 2.0f};
    SamplerOutput out;
    sampler.sample(row, 3, std::span<const SamplerRow>(&input, 1), out);
    EXPECT_EQ(out.rows[0].token_id, 2);  // 3 / 4 < 2
    EXPECT_FLOAT_EQ(row[1], 0.75f);      // the row was processed in place

    SamplingParams allowed;
    allowed.temperature = 0.0f;
    allowed.allowed_token_ids = Ids{0};
    EXPECT_EQ(sample_one(sampler, {1.0f, 3.0f, 2.0f}, allowed), 0);
}

TEST(Sampler, MinTokensKeepsEosFromBeingChosen) {
    Sampler sampler;
    SamplingParams params;
    params.temperature = 0.0f;
    params.min_tokens = 3;
    SamplerRow input;
    input.params = &params;
    const Ids eos{0};
    const Ids output{1, 1};
    input.eos_ids = eos;
    input.output_ids = output;
    std::vector<float> row{5.0f, 1.0f, 2.0f};
    SamplerOutput out;
    sampler.sample(row, 3, std::span<const SamplerRow>(&input, 1), out);
    EXPECT_EQ(out.rows[0].token_id, 2);
}

TEST(Sampler, SeededRowsAreReproducibleAndIndependentOfTheBatch) {
    const std::vector<float> base{0.3f, 1.1f, -0.2f, 0.9f, 0.0f, 0.7f, 1.0f, -1.0f};
    const size_t vocab = base.size();
    SamplingParams seeded;
    seeded.temperature = 1.3f;
    seeded.seed = 42;
    SamplingParams unseeded;
    unseeded.temperature = 0.9f;
    SamplingParams other_seed = seeded;
    other_seed.seed = 43;

    const auto run = [&](int batch_shape, const SamplingParams& target, int steps) {
        Sampler sampler(batch_shape * 7919ULL);
        RngState rng = RngState::from_seed(*target.seed);
        RngState neighbour = RngState::from_seed(99);
        Ids tokens;
        for (int step = 0; step < steps; ++step) {
            std::vector<SamplerRow> rows;
            const auto add = [&](const SamplingParams& p, RngState* r) {
                SamplerRow row;
                row.params = &p;
                row.rng = r;
                rows.push_back(row);
            };
            for (int extra = 0; extra < batch_shape; ++extra) add(unseeded, nullptr);
            const size_t target_row = rows.size();
            add(target, &rng);
            if (batch_shape % 2 == 1) add(seeded, &neighbour);
            std::vector<float> logits;
            for (size_t r = 0; r < rows.size(); ++r)
                logits.insert(logits.end(), base.begin(), base.end());
            SamplerOutput out;
            sampler.sample(logits, vocab, rows, out);
            tokens.push_back(out.rows[target_row].token_id);
        }
        return tokens;
    };
    const Ids alone = run(0, seeded, 64);
    EXPECT_EQ(run(0, seeded, 64), alone);
    EXPECT_EQ(run(1, seeded, 64), alone);
    EXPECT_EQ(run(4, seeded, 64), alone);
    EXPECT_NE(run(0, other_seed, 64), alone);
    std::set<int64_t> distinct(alone.begin(), alone.end());
    EXPECT_GT(distinct.size(), 3u);  // actually random, not stuck on one token
}

TEST(Sampler, SeededGeneratorAdvancesOncePerRandomDraw) {
    Sampler sampler;
    SamplingParams params;
    params.seed = 5;
    RngState rng = RngState::from_seed(5);
    sample_one(sampler, {0.0f, 0.0f}, params, &rng);
    sample_one(sampler, {0.0f, 0.0f}, params, &rng);
    EXPECT_EQ(rng.counter, 2u);
    params.temperature = 0.0f;
    sample_one(sampler, {0.0f, 0.0f}, params, &rng);
    EXPECT_EQ(rng.counter, 2u);
}

TEST(Sampler, LogprobsComeFromTheRawLogits) {
    Sampler sampler;
    SamplingParams params;
    params.temperature = 0.0f;
    params.logprobs = 2;
    params.logit_bias = {{0, 10.0f}};  // forces token 0, which is third in the raw logits
    params.repetition_penalty = 1.5f;
    const std::vector<float> raw{1.0f, 2.0f, 3.0f, 0.5f};
    std::vector<float> row = raw;
    SamplerRow input;
    input.params = &params;
    const Ids prompt{2};
    input.prompt_ids = prompt;
    SamplerOutput out;
    sampler.sample(row, 4, std::span<const SamplerRow>(&input, 1), out);
    const std::vector<double> expected = log_softmax(raw);
    const SampledToken& token = out.rows[0];
    ASSERT_EQ(token.token_id, 0);
    ASSERT_TRUE(token.has_logprobs);
    EXPECT_EQ(token.chosen.token_id, 0);
    EXPECT_NEAR(token.chosen.logprob, expected[0], 1e-6);
    EXPECT_EQ(token.chosen.rank, 3);
    const auto top = out.top_of(0);
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].token_id, 2);
    EXPECT_NEAR(top[0].logprob, expected[2], 1e-6);
    EXPECT_EQ(top[0].rank, 1);
    EXPECT_EQ(top[1].token_id, 1);
    EXPECT_NEAR(top[1].logprob, expected[1], 1e-6);
    EXPECT_EQ(top[1].rank, 2);
}

TEST(Sampler, LogprobRanksCountTies) {
    Sampler sampler;
    SamplingParams params;
    params.temperature = 0.0f;
    params.logprobs = 0;
    params.allowed_token_ids = Ids{1};
    SamplerRow input;
    input.params = &params;
    std::vector<float> row{2.0f, 2.0f, 1.0f};
    SamplerOutput out;
    sampler.sample(row, 3, std::span<const SamplerRow>(&input, 1), out);
    EXPECT_EQ(out.rows[0].token_id, 1);
    EXPECT_EQ(out.rows[0].chosen.rank, 2);
    EXPECT_NEAR(out.rows[0].chosen.logprob, log_softmax({2.0f, 2.0f, 1.0f})[1], 1e-6);
    EXPECT_TRUE(out.top_of(0).empty());
}

TEST(Sampler, NoLogprobsUnlessAsked) {
    Sampler sampler;
    SamplingParams params;
    SamplerRow input;
    input.params = &params;
    std::vector<float> row{0.0f, 1.0f};
    SamplerOutput out;
    sampler.sample(row, 2, std::span<const SamplerRow>(&input, 1), out);
    EXPECT_FALSE(out.rows[0].has_logprobs);
    EXPECT_TRUE(out.top.empty());
}

TEST(Sampler, PerRowTopLogprobsInABatch) {
    Sampler sampler;
    SamplingParams three;
    three.temperature = 0.0f;
    three.logprobs = 3;
    SamplingParams one = three;
    one.logprobs = 1;
    std::vector<SamplerRow> rows(2);
    rows[0].params = &three;
    rows[1].params = &one;
    std::vector<float> logits{0.0f, 1.0f, 2.0f, 3.0f, /* row 1 */ 4.0f, 3.0f, 2.0f, 1.0f};
    SamplerOutput out;
    sampler.sample(logits, 4, rows, out);
    ASSERT_EQ(out.top_of(0).size(), 3u);
    ASSERT_EQ(out.top_of(1).size(), 1u);
    EXPECT_EQ(out.top_of(0)[2].token_id, 1);
    EXPECT_EQ(out.top_of(1)[0].token_id, 0);
    EXPECT_EQ(out.top_of(1)[0].rank, 1);
}

TEST(Sampler, RejectsMismatchedShapes) {
    Sampler sampler;
    SamplingParams params;
    SamplerRow input;
    input.params = &params;
    std::vector<float> row(5, 0.0f);
    SamplerOutput out;
    EXPECT_THROW(sampler.sample(row, 4, std::span<const SamplerRow>(&input, 1), out), ovllm::Error);
    SamplerRow missing;
    EXPECT_THROW(sampler.sample(row, 5, std::span<const SamplerRow>(&missing, 1), out),
                 ovllm::Error);
}

TEST(PromptLogprobs, MatchLogSoftmaxPerPosition) {
    const std::vector<float> logits{0.0f, 1.0f, 2.0f, /* position 1 */ 3.0f, 3.0f, -1.0f};
    const Ids targets{0, 1};
    PromptLogprobs out;
    compute_prompt_logprobs(logits, 3, targets, 2, out);
    const auto first = log_softmax({0.0f, 1.0f, 2.0f});
    const auto second = log_softmax({3.0f, 3.0f, -1.0f});
    ASSERT_EQ(out.chosen.size(), 2u);
    EXPECT_NEAR(out.chosen[0].logprob, first[0], 1e-6);
    EXPECT_EQ(out.chosen[0].rank, 3);
    EXPECT_NEAR(out.chosen[1].logprob, second[1], 1e-6);
    EXPECT_EQ(out.chosen[1].rank, 2);
    EXPECT_EQ(out.top_of(0)[0].token_id, 2);
    EXPECT_EQ(out.top_of(0)[1].token_id, 1);
    EXPECT_EQ(out.top_of(1)[0].token_id, 0);
    EXPECT_EQ(out.top_of(1)[1].token_id, 1);
    EXPECT_EQ(out.top_of(1)[1].rank, 2);
    EXPECT_THROW(compute_prompt_logprobs(logits, 3, Ids{0, 3}, 1, out), ovllm::Error);
    EXPECT_THROW(compute_prompt_logprobs(logits, 4, targets, 1, out), ovllm::Error);
}

// 99.9th percentiles of chi-square: df 5 -> 20.5, df 3 -> 16.3, df 7 -> 24.3.
TEST(SamplerFrequency, TemperatureMatchesSoftmax) {
    const std::vector<float> row{1.0f, 0.5f, 0.0f, -0.5f, -1.0f, 0.2f};
    SamplingParams params;
    params.temperature = 0.8f;
    const int draws = 40000;
    const auto counts = histogram(row, params, draws);
    EXPECT_LT(chi_square(counts, softmax(row, 0.8), draws), 20.5);
}

TEST(SamplerFrequency, TopPMatchesTheRenormalisedSoftmax) {
    const std::vector<float> row{1.0f, 0.5f, 0.0f, -0.5f, -1.0f, 0.2f};
    SamplingParams params;
    params.temperature = 0.8f;
    params.top_p = 0.8f;
    // softmax(row / 0.8) descending: 0 (.336), 1 (.180), 5 (.127), 2 (.096), 3 (.051), 4 (.028)
    // ... preceding mass before token 2 is .643 < .8, before token 3 is .739 < .8, before
    // token 4 it is .79 < .8 -> let the reference decide which survive.
    std::vector<double> probs = softmax(row, 0.8);
    const std::vector<int> order{0, 1, 5, 2, 3, 4};
    double prefix = 0.0;
    std::vector<double> expected(row.size(), 0.0);
    for (const int id : order) {
        if (prefix >= 0.8) break;
        expected[id] = probs[id];
        prefix += probs[id];
    }
    double kept = 0.0;
    for (const double p : expected) kept += p;
    for (double& p : expected) p /= kept;
    int survivors = 0;
    for (const double p : expected) survivors += p > 0.0 ? 1 : 0;
    ASSERT_LT(survivors, 6);  // the test must truncate something
    const int draws = 40000;
    const auto counts = histogram(row, params, draws);
    EXPECT_LT(chi_square(counts, expected, draws), 20.5);
}

TEST(SamplerFrequency, TopKAndMinPOverALargeVocabulary) {
    // Eight live tokens spread over several 1024-token draw blocks; all else masked.
    std::vector<float> row(5000, -std::numeric_limits<float>::infinity());
    const std::vector<int> live{3, 900, 1024, 1500, 2047, 3100, 4098, 4999};
    const std::vector<float> values{0.4f, 1.2f, -0.3f, 0.0f, 0.9f, -2.5f, 0.6f, 0.1f};
    for (size_t i = 0; i < live.size(); ++i) row[live[i]] = values[i];
    const std::vector<double> live_probs = softmax(values, 1.0);
    std::vector<double> expected(row.size(), 0.0);
    for (size_t i = 0; i < live.size(); ++i) expected[live[i]] = live_probs[i];
    SamplingParams params;
    const int draws = 40000;
    EXPECT_LT(chi_square(histogram(row, params, draws), expected, draws), 24.3);

    // top_k 4 keeps 1.2, 0.9, 0.6, 0.4; min_p 0.46 drops 0.4 (ratio e^-0.8 = 0.449)
    params.top_k = 4;
    params.min_p = 0.46f;
    std::vector<double> truncated(row.size(), 0.0);
    const double norm = std::exp(1.2) + std::exp(0.9) + std::exp(0.6);
    truncated[900] = std::exp(1.2) / norm;
    truncated[2047] = std::exp(0.9) / norm;
    truncated[4098] = std::exp(0.6) / norm;
    EXPECT_LT(chi_square(histogram(row, params, draws), truncated, draws), 13.9);  // df 2
}

}  // namespace

namespace {

TEST(SamplerThreads, ResultsDoNotDependOnTheThreadCount) {
    const size_t vocab = 3000;
    const size_t num_rows = 24;
    std::vector<SamplingParams> params(4);
    params[0].temperature = 0.0f;
    params[0].logprobs = 3;
    params[1].temperature = 0.9f;
    params[1].top_k = 40;
    params[1].top_p = 0.9f;
    params[1].seed = 11;
    params[2].temperature = 1.2f;  // unseeded: engine generator
    params[2].repetition_penalty = 1.3f;
    params[2].frequency_penalty = 0.4f;
    params[3].temperature = 0.7f;
    params[3].top_p = 0.8f;
    params[3].min_p = 0.05f;
    params[3].logprobs = 5;
    const auto run = [&](size_t threads) {
        Sampler sampler(77, threads);
        std::vector<RngState> rngs(num_rows);
        std::vector<Ids> outputs(num_rows);
        std::vector<int64_t> tokens;
        std::vector<float> logprobs;
        for (int step = 0; step < 6; ++step) {
            std::vector<SamplerRow> rows(num_rows);
            std::vector<float> logits(num_rows * vocab);
            for (size_t r = 0; r < num_rows; ++r) {
                const SamplingParams& p = params[r % params.size()];
                if (step == 0 && p.seed) rngs[r] = RngState::from_seed(*p.seed + r);
                rows[r].params = &p;
                rows[r].rng = p.seed ? &rngs[r] : nullptr;
                rows[r].output_ids = outputs[r];
                for (size_t v = 0; v < vocab; ++v)
                    logits[r * vocab + v] =
                        static_cast<float>((r * 7919 + v * 104729 + step * 31) % 1000) / 150.0f;
            }
            SamplerOutput out;
            sampler.sample(logits, vocab, rows, out);
            for (size_t r = 0; r < num_rows; ++r) {
                tokens.push_back(out.rows[r].token_id);
                outputs[r].push_back(out.rows[r].token_id);
                if (out.rows[r].has_logprobs) logprobs.push_back(out.rows[r].chosen.logprob);
                for (const LogprobEntry& e : out.top_of(r)) logprobs.push_back(e.logprob);
            }
        }
        return std::make_pair(tokens, logprobs);
    };
    const auto single = run(1);
    EXPECT_EQ(run(4), single);
    EXPECT_EQ(run(3), single);
}

TEST(WorkerPool, RunsEveryItemOnceAndRethrows) {
    WorkerPool pool(4);
    EXPECT_EQ(pool.size(), 4u);
    for (int round = 0; round < 20; ++round) {
        std::vector<int> hits(100, 0);
        auto task = [&](size_t item, size_t worker) {
            ASSERT_LT(worker, 4u);
            ++hits[item];
        };
        pool.run(hits.size(), task);
        EXPECT_EQ(hits, std::vector<int>(100, 1));
    }
    auto failing = [](size_t item, size_t) {
        if (item == 37) throw ovllm::Error("item 37 failed");
    };
    EXPECT_THROW(pool.run(64, failing), ovllm::Error);
    std::vector<int> after(10, 0);
    auto count = [&](size_t item, size_t) { ++after[item]; };
    pool.run(after.size(), count);
    EXPECT_EQ(after, std::vector<int>(10, 1));
}

}  // namespace
