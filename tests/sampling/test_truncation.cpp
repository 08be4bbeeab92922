#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include "sampling/row_math.hpp"
#include "sampling/truncation.hpp"

namespace {

using namespace ovllm::sampling;
using ovllm::SamplingParams;
using IdSet = std::set<int64_t>;

IdSet kept_ids(const KeptSet& kept) {
    IdSet ids;
    if (kept.whole_row) {
        for (size_t i = 0; i < kept.row.size(); ++i)
            if (kept_weight(kept, i) > 0.0f) ids.insert(static_cast<int64_t>(i));
    } else {
        for (const Candidate& c : kept.candidates)
            if (c.weight > 0.0f) ids.insert(c.id);
    }
    return ids;
}

IdSet survivors(const std::vector<float>& row, const SamplingParams& params) {
    TruncationScratch scratch;
    return kept_ids(truncate_row(row, params, scratch));
}

SamplingParams with(int top_k, float top_p, float min_p, float temperature = 1.0f) {
    SamplingParams p;
    p.top_k = top_k;
    p.top_p = top_p;
    p.min_p = min_p;
    p.temperature = temperature;
    return p;
}

std::vector<float> log_of(const std::vector<double>& probs) {
    std::vector<float> row;
    for (const double p : probs) row.push_back(static_cast<float>(std::log(p)));
    return row;
}

// Deterministic pseudo-random logits in [-4, 4).
std::vector<float> noisy_row(size_t vocab, uint64_t seed) {
    std::vector<float> row(vocab);
    uint64_t state = seed;
    for (float& v : row) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        v = static_cast<float>((state >> 40) % 8000) / 1000.0f - 4.0f;
    }
    return row;
}

TEST(Truncation, FastExpMatchesStdExp) {
    for (float x = -80.0f; x <= 80.0f; x += 0.37f)
        EXPECT_NEAR(fast_exp(x) / std::exp(x), 1.0f, 3e-7f) << x;
    EXPECT_EQ(fast_exp(0.0f), 1.0f);
    EXPECT_EQ(fast_exp(-std::numeric_limits<float>::infinity()), 0.0f);
    EXPECT_EQ(fast_exp(-100.0f), 0.0f);
}

TEST(Truncation, TopKKeepsEveryTokenTiedWithTheKth) {
    const std::vector<float> row{1.0f, 5.0f, 3.0f, 5.0f, 2.0f, 4.0f};
    EXPECT_EQ(survivors(row, with(1, 1.0f, 0.0f)), (IdSet{1, 3}));
    EXPECT_EQ(survivors(row, with(2, 1.0f, 0.0f)), (IdSet{1, 3}));
    EXPECT_EQ(survivors(row, with(3, 1.0f, 0.0f)), (IdSet{1, 3, 5}));
    EXPECT_EQ(survivors(row, with(6, 1.0f, 0.0f)), (IdSet{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(survivors(row, with(0, 1.0f, 0.0f)), (IdSet{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(survivors(row, with(-1, 1.0f, 0.0f)), (IdSet{0, 1, 2, 3, 4, 5}));
    const std::vector<float> ties{3.0f, 1.0f, 3.0f, 3.0f, 0.0f};
    EXPECT_EQ(survivors(ties, with(2, 1.0f, 0.0f)), (IdSet{0, 2, 3}));
}

TEST(Truncation, TopKNeverKeepsMaskedTokens) {
    const float masked = -std::numeric_limits<float>::infinity();
    const std::vector<float> row{masked, 2.0f, masked, masked};
    EXPECT_EQ(survivors(row, with(3, 1.0f, 0.0f)), (IdSet{1}));
}

TEST(Truncation, TopKOnALargeRowMatchesAFullSort) {
    const std::vector<float> row = noisy_row(5003, 7);
    for (const int k : {1, 5, 50, 700}) {
        std::vector<float> sorted = row;
        std::sort(sorted.begin(), sorted.end(), std::greater<>());
        const float kth = sorted[static_cast<size_t>(k - 1)];
        IdSet expected;
        for (size_t i = 0; i < row.size(); ++i)
            if (row[i] >= kth) expected.insert(static_cast<int64_t>(i));
        EXPECT_EQ(survivors(row, with(k, 1.0f, 0.0f)), expected) << "k=" << k;
    }
}

TEST(Truncation, SelectTopOrdersByLogitThenId) {
    const std::vector<float> row{2.0f, 7.0f, 2.0f, 9.0f, 7.0f, 1.0f};
    TopScratch scratch;
    select_top(row, 4, scratch);
    const std::vector<Candidate>& top = scratch.heap;
    ASSERT_EQ(top.size(), 4u);
    EXPECT_EQ(top[0].id, 3);
    EXPECT_EQ(top[1].id, 1);
    EXPECT_EQ(top[2].id, 4);
    EXPECT_EQ(top[3].id, 0);
}

TEST(Truncation, TopPKeepsTokensWhosePrecedingMassIsBelowP) {
    const std::vector<float> row = log_of({0.5, 0.25, 0.15, 0.1});
    EXPECT_EQ(survivors(row, with(0, 0.7f, 0.0f)), (IdSet{0, 1}));
    EXPECT_EQ(survivors(row, with(0, 0.76f, 0.0f)), (IdSet{0, 1, 2}));
    EXPECT_EQ(survivors(row, with(0, 0.3f, 0.0f)), (IdSet{0}));
    EXPECT_EQ(survivors(row, with(0, 0.95f, 0.0f)), (IdSet{0, 1, 2, 3}));
}

TEST(Truncation, TopPKeepsAllTokensTiedWithTheLastKept) {
    const std::vector<float> row = log_of({0.4, 0.2, 0.2, 0.2});
    EXPECT_EQ(survivors(row, with(0, 0.45f, 0.0f)), (IdSet{0, 1, 2, 3}));
    EXPECT_EQ(survivors(row, with(0, 0.35f, 0.0f)), (IdSet{0}));
}

TEST(Truncation, TopPSeesTheTemperature) {
    const std::vector<float> row{2.0f, 1.0f, 0.0f};
    EXPECT_EQ(survivors(row, with(0, 0.9f, 0.0f, 1.0f)), (IdSet{0, 1}));
    EXPECT_EQ(survivors(row, with(0, 0.9f, 0.0f, 0.1f)), (IdSet{0}));
    EXPECT_EQ(survivors(row, with(0, 0.9f, 0.0f, 10.0f)), (IdSet{0, 1, 2}));
}

TEST(Truncation, TopPRunsOnWhatTopKLeft) {
    // Top-k 2 leaves {0.5, 0.25} -> renormalised {2/3, 1/3}; top-p 0.6 keeps only token 0.
    const std::vector<float> row = log_of({0.5, 0.25, 0.15, 0.1});
    EXPECT_EQ(survivors(row, with(2, 0.6f, 0.0f)), (IdSet{0}));
    EXPECT_EQ(survivors(row, with(2, 0.7f, 0.0f)), (IdSet{0, 1}));
}

// Reference top-k then top-p by a full sort in double precision.
IdSet reference_top_k_top_p(const std::vector<float>& row, size_t top_k, double top_p,
                            double temperature) {
    std::vector<int64_t> order(row.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    std::sort(order.begin(), order.end(),
              [&](int64_t a, int64_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    if (top_k > 0) {
        const float kth = row[order[top_k - 1]];
        while (row[order.back()] < kth) order.pop_back();
    }
    const double max = row[order[0]];
    double total = 0.0;
    for (const int64_t id : order) total += std::exp((row[id] - max) / temperature);
    IdSet expected;
    double prefix = 0.0;
    float last = 0.0f;
    for (const int64_t id : order) {
        if (prefix >= top_p * total && row[id] != last) break;
        expected.insert(id);
        last = row[id];
        prefix += std::exp((row[id] - max) / temperature);
    }
    return expected;
}

TEST(Truncation, TopPOnALargeRowMatchesAFullSort) {
    const std::vector<float> row = noisy_row(6007, 11);
    for (const float top_p : {0.05f, 0.5f, 0.9f}) {
        EXPECT_EQ(survivors(row, with(0, top_p, 0.0f, 0.7f)),
                  reference_top_k_top_p(row, 0, top_p, 0.7))
            << top_p;
        EXPECT_EQ(survivors(row, with(0, top_p, 0.0f, 3.0f)),
                  reference_top_k_top_p(row, 0, top_p, 3.0))
            << top_p;
    }
}

TEST(Truncation, LargeTopKThenTopPMatchesAFullSort) {
    const std::vector<float> row = noisy_row(9001, 3);
    for (const int top_k : {40, 700, 3000}) {
        for (const float top_p : {0.3f, 0.8f}) {
            const IdSet got = survivors(row, with(top_k, top_p, 0.0f, 1.5f));
            EXPECT_EQ(got, reference_top_k_top_p(row, static_cast<size_t>(top_k), top_p, 1.5))
                << top_k << " " << top_p;
            EXPECT_GT(got.size(), 1u);
        }
    }
}

TEST(Truncation, MinPKeepsTokensAtLeastMinPTimesTheTop) {
    const std::vector<float> row = log_of({0.5, 0.3, 0.15, 0.05});
    EXPECT_EQ(survivors(row, with(0, 1.0f, 0.25f)), (IdSet{0, 1, 2}));
    EXPECT_EQ(survivors(row, with(0, 1.0f, 0.5f)), (IdSet{0, 1}));
    EXPECT_EQ(survivors(row, with(0, 1.0f, 1.0f)), (IdSet{0}));
    // Temperature 0.5 squares the ratios to 0.36, 0.09, 0.01.
    EXPECT_EQ(survivors(row, with(0, 1.0f, 0.25f, 0.5f)), (IdSet{0, 1}));
    // Exact ties with the top always survive.
    EXPECT_EQ(survivors(std::vector<float>{1.0f, 1.0f, 0.0f}, with(0, 1.0f, 1.0f)), (IdSet{0, 1}));
}

TEST(Truncation, MinPRunsBeforeTopP) {
    // min_p 0.25 drops 0.05; top-p 0.82 over {0.5, 0.3, 0.15}/0.95 stops after 0.3.
    // (Top-p first would have kept 0.15 as well.)
    const std::vector<float> row = log_of({0.5, 0.3, 0.15, 0.05});
    EXPECT_EQ(survivors(row, with(0, 0.82f, 0.25f)), (IdSet{0, 1}));
}

TEST(Truncation, WeightsAreSoftmaxNumerators) {
    const std::vector<float> row{1.0f, 0.0f, -1.0f};
    TruncationScratch scratch;
    const KeptSet kept = truncate_row(row, with(0, 1.0f, 0.0f, 2.0f), scratch);
    ASSERT_TRUE(kept.whole_row);
    EXPECT_FLOAT_EQ(kept_weight(kept, 0), 1.0f);
    EXPECT_FLOAT_EQ(kept_weight(kept, 1), std::exp(-0.5f));
    EXPECT_FLOAT_EQ(kept_weight(kept, 2), std::exp(-1.0f));
    EXPECT_NEAR(kept.total, 1.0 + std::exp(-0.5) + std::exp(-1.0), 1e-6);
}

TEST(Truncation, DrawWalksCumulativeMass) {
    const std::vector<float> row = log_of({0.5, 0.25, 0.25});
    TruncationScratch scratch;
    const KeptSet kept = truncate_row(row, with(0, 1.0f, 0.0f), scratch);
    EXPECT_EQ(draw_token(kept, 0.0, scratch), 0);
    EXPECT_EQ(draw_token(kept, 0.49, scratch), 0);
    EXPECT_EQ(draw_token(kept, 0.51, scratch), 1);
    EXPECT_EQ(draw_token(kept, 0.74, scratch), 1);
    EXPECT_EQ(draw_token(kept, 0.76, scratch), 2);
    EXPECT_EQ(draw_token(kept, 0.999999, scratch), 2);
}

}  // namespace
