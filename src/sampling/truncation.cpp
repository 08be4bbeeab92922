#include "sampling/truncation.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "sampling/row_math.hpp"

namespace ovllm::sampling {
namespace {

constexpr size_t kScanBlock = kMaxBlock;  // scans skip whole blocks below their threshold
constexpr size_t kDrawBlock = 1024;       // whole-row draw: per-block sums, then one block walked
constexpr size_t kSmallSort = 128;        // top-p sorts sets this small outright
constexpr int kBucketsPerNat = 4;         // top-p histogram resolution in log-probability
constexpr int kBuckets = 128;             // last bucket collects everything below -32 nats

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Strict "a ranks before b": larger logit, then lower id.
bool ranks_before(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

void offer(std::vector<Candidate>& heap, float logit, int32_t id) {
    // Ids arrive in increasing order, so an equal logit never beats the heap's worst.
    if (!(logit > heap.front().logit)) return;
    std::pop_heap(heap.begin(), heap.end(), ranks_before);
    heap.back() = Candidate{logit, 0.0f, id};
    std::push_heap(heap.begin(), heap.end(), ranks_before);
}

// Weight of each candidate; drops those under min_p (weight < min_p * 1, max weight is 1).
void weigh(std::vector<Candidate>& cands, float max, float inv_temp, float min_p) {
    for (Candidate& c : cands) c.weight = fast_exp((c.logit - max) * inv_temp);
    std::erase_if(cands,
                  [&](const Candidate& c) { return !(c.weight > 0.0f) || c.weight < min_p; });
}

double total_weight(std::span<const Candidate> cands) {
    double total = 0.0;
    for (const Candidate& c : cands) total += c.weight;
    return total;
}

// Keeps the leading sorted entries whose preceding mass is < target, plus ties of the last.
size_t top_p_cut(std::span<const Candidate> sorted, double prefix, double target) {
    size_t kept = 0;
    while (kept < sorted.size() && prefix < target) prefix += sorted[kept++].weight;
    if (kept == 0) return 0;
    const float last = sorted[kept - 1].logit;
    while (kept < sorted.size() && sorted[kept].logit == last) ++kept;
    return kept;
}

int bucket_of(const Candidate& c, float max, float inv_temp) {
    const float nats = (max - c.logit) * inv_temp * kBucketsPerNat;
    return nats < static_cast<float>(kBuckets - 1) ? static_cast<int>(nats) : kBuckets - 1;
}

// Top-p over candidates in any order. Small sets are sorted; large ones are bucketed by
// log-probability so that only the bucket holding the cut is sorted.
// `total` is the mass of every token still in play, which may exceed the candidates' own
// when the candidates were pre-selected by a weight threshold.
void apply_top_p(std::vector<Candidate>& cands, float top_p, double total, float max,
                 float inv_temp, TruncationScratch& scratch) {
    const double target = static_cast<double>(top_p) * total;
    if (cands.size() <= kSmallSort) {
        std::sort(cands.begin(), cands.end(), ranks_before);
        cands.resize(top_p_cut(cands, 0.0, target));
        return;
    }
    std::array<double, kBuckets> mass{};
    for (const Candidate& c : cands) mass[bucket_of(c, max, inv_temp)] += c.weight;
    int cut_bucket = 0;
    double before = 0.0;  // mass of the buckets above the cut bucket
    while (cut_bucket < kBuckets - 1 && before + mass[cut_bucket] < target)
        before += mass[cut_bucket++];
    std::vector<Candidate>& boundary = scratch.boundary;
    boundary.clear();
    size_t kept = 0;
    double prefix = 0.0;
    for (const Candidate& c : cands) {
        const int bucket = bucket_of(c, max, inv_temp);
        if (bucket < cut_bucket) {
            cands[kept++] = c;
            prefix += c.weight;
        } else if (bucket == cut_bucket) {
            boundary.push_back(c);
        }
    }
    std::sort(boundary.begin(), boundary.end(), ranks_before);
    const size_t from_boundary = top_p_cut(boundary, prefix, target);
    std::copy_n(boundary.begin(), from_boundary, cands.begin() + static_cast<ptrdiff_t>(kept));
    cands.resize(kept + from_boundary);
}

// Candidates with logit >= threshold (finite), in id order; `maxima` from block_maxima().
void collect_at_least(std::span<const float> row, std::span<const float> maxima, float threshold,
                      std::vector<Candidate>& out) {
    out.clear();
    const size_t full = row.size() / kScanBlock * kScanBlock;
    for (size_t i = 0; i < full; i += kScanBlock) {
        if (!(maxima[i / kScanBlock] >= threshold)) continue;
        for (size_t j = i; j < i + kScanBlock; ++j)
            if (row[j] >= threshold)
                out.push_back(Candidate{row[j], 0.0f, static_cast<int32_t>(j)});
    }
    for (size_t j = full; j < row.size(); ++j)
        if (row[j] >= threshold) out.push_back(Candidate{row[j], 0.0f, static_cast<int32_t>(j)});
}

KeptSet candidate_set(std::span<const Candidate> cands, double total) {
    KeptSet kept;
    kept.candidates = cands;
    kept.total = total;
    return kept;
}

// The whole row as the kept set: per-block weight sums only, so the draw can skip whole
// blocks; the one block it lands in is recomputed.
KeptSet whole_row(std::span<const float> row, float max, float inv_temp, float min_p,
                  TruncationScratch& scratch) {
    const size_t blocks = (row.size() + kDrawBlock - 1) / kDrawBlock;
    scratch.block_sums.resize(blocks);
    double total = 0.0;
    for (size_t b = 0; b < blocks; ++b) {
        const size_t begin = b * kDrawBlock;
        const size_t size = std::min(kDrawBlock, row.size() - begin);
        scratch.block_sums[b] = sum_exp(row.subspan(begin, size), max, inv_temp, min_p);
        total += scratch.block_sums[b];
    }
    KeptSet kept;
    kept.total = total;
    kept.whole_row = true;
    kept.row = row;
    kept.max = max;
    kept.inv_temp = inv_temp;
    kept.min_p = min_p;
    return kept;
}

// Weights of the whole row into scratch.weights; returns their sum.
double weigh_row(std::span<const float> row, float max, float inv_temp, float min_p,
                 TruncationScratch& scratch) {
    scratch.weights.resize(row.size());
    return exp_into(row, max, inv_temp, min_p, scratch.weights);
}

// Weight thresholds tried by top-p without top-k, in nats below the top token.
constexpr std::array<float, 6> kTopPNats = {1.0f, 2.0f, 4.0f, 8.0f, 12.0f, 16.0f};

// Top-p without top-k: one pass sums the mass above each threshold of kTopPNats; the
// highest threshold whose tokens already hold the top_p mass selects the candidates. If
// none does, every token with a weight is a candidate.
void top_p_candidates(std::span<const float> row, double total, float top_p,
                      TruncationScratch& scratch) {
    std::vector<Candidate>& out = scratch.candidates;
    const std::span<const float> weights(scratch.weights.data(), row.size());
    const double target = static_cast<double>(top_p) * total;
    std::array<float, kTopPNats.size()> thresholds{};
    for (size_t j = 0; j < thresholds.size(); ++j) thresholds[j] = std::exp(-kTopPNats[j]);
    std::array<double, kTopPNats.size()> sums{};
    sums_at_least(weights, thresholds, sums);
    float threshold = 0.0f;  // 0 keeps every weight that survived min_p
    for (size_t j = 0; j < thresholds.size(); ++j) {
        if (sums[j] >= target) {
            threshold = thresholds[j];
            break;
        }
    }
    out.clear();
    std::vector<float>& maxima = scratch.top.block_maxima;
    maxima.resize(weights.size() / kScanBlock);
    block_maxima(weights, maxima);
    const size_t full = maxima.size() * kScanBlock;
    const auto take = [&](size_t j) {
        if (weights[j] >= threshold && weights[j] > 0.0f)
            out.push_back(Candidate{row[j], weights[j], static_cast<int32_t>(j)});
    };
    for (size_t i = 0; i < full; i += kScanBlock) {
        if (!(maxima[i / kScanBlock] >= threshold)) continue;
        for (size_t j = i; j < i + kScanBlock; ++j) take(j);
    }
    for (size_t j = full; j < weights.size(); ++j) take(j);
}

}  // namespace

void select_top(std::span<const float> row, size_t n, TopScratch& scratch) {
    std::vector<Candidate>& out = scratch.heap;
    out.clear();
    const size_t blocks = row.size() / kScanBlock;
    scratch.block_maxima.resize(blocks);
    block_maxima(row, scratch.block_maxima);
    n = std::min(n, row.size());
    if (n == 0) return;
    // The n largest block maxima are n distinct entries, so the n-th largest entry is at
    // least the n-th largest block maximum: blocks whose maximum is below it hold none of
    // the top n and are never read again.
    float floor = -std::numeric_limits<float>::infinity();
    if (n <= blocks) {
        // Min-heap of the n largest maxima so far; most blocks fail one comparison.
        std::vector<float>& largest = scratch.largest_maxima;
        largest.assign(scratch.block_maxima.begin(), scratch.block_maxima.begin() + n);
        std::make_heap(largest.begin(), largest.end(), std::greater<>());
        for (size_t b = n; b < blocks; ++b) {
            if (!(scratch.block_maxima[b] > largest.front())) continue;
            std::pop_heap(largest.begin(), largest.end(), std::greater<>());
            largest.back() = scratch.block_maxima[b];
            std::push_heap(largest.begin(), largest.end(), std::greater<>());
        }
        floor = largest.front();
    }
    const auto take = [&out, n](float logit, size_t id) {
        if (out.size() < n) {
            out.push_back(Candidate{logit, 0.0f, static_cast<int32_t>(id)});
            std::push_heap(out.begin(), out.end(), ranks_before);
        } else {
            offer(out, logit, static_cast<int32_t>(id));
        }
    };
    for (size_t b = 0; b < blocks; ++b) {
        if (!(scratch.block_maxima[b] >= floor)) continue;
        for (size_t j = b * kScanBlock; j < (b + 1) * kScanBlock; ++j) take(row[j], j);
    }
    for (size_t j = blocks * kScanBlock; j < row.size(); ++j) take(row[j], j);
    std::sort_heap(out.begin(), out.end(), ranks_before);
}

KeptSet truncate_row(std::span<const float> row, const SamplingParams& params,
                     TruncationScratch& scratch) {
    const float inv_temp = 1.0f / params.temperature;
    const float min_p = params.min_p;
    const bool top_k = params.top_k > 0 && static_cast<size_t>(params.top_k) < row.size();
    const bool top_p = params.top_p < 1.0f;
    std::vector<Candidate>& cands = scratch.candidates;
    if (top_k) {
        select_top(row, static_cast<size_t>(params.top_k), scratch.top);
        const float max = scratch.top.heap.front().logit;
        const float kth = scratch.top.heap.back().logit;
        collect_at_least(row, scratch.top.block_maxima,
                         std::max(kth, -std::numeric_limits<float>::max()), cands);
        weigh(cands, max, inv_temp, min_p);
        if (top_p) apply_top_p(cands, params.top_p, total_weight(cands), max, inv_temp, scratch);
        return candidate_set(cands, total_weight(cands));
    }
    const float max = row_max(row);
    if (max == kNegInf) {  // everything masked: nothing to draw from
        cands.clear();
        return candidate_set(cands, 0.0);
    }
    if (!top_p) return whole_row(row, max, inv_temp, min_p, scratch);
    const double total = weigh_row(row, max, inv_temp, min_p, scratch);
    top_p_candidates(row, total, params.top_p, scratch);
    apply_top_p(cands, params.top_p, total, max, inv_temp, scratch);
    return candidate_set(cands, total_weight(cands));
}

int64_t draw_token(const KeptSet& kept, double u, const TruncationScratch& scratch) {
    const double target = u * kept.total;
    double cumulative = 0.0;
    if (!kept.whole_row) {
        int64_t last = kept.candidates.empty() ? 0 : kept.candidates.front().id;
        for (const Candidate& c : kept.candidates) {
            if (c.weight <= 0.0f) continue;
            cumulative += c.weight;
            last = c.id;
            if (cumulative > target) return c.id;
        }
        return last;  // rounding left the target just past the end
    }
    size_t block = 0;
    const size_t blocks = scratch.block_sums.size();
    while (block + 1 < blocks && cumulative + scratch.block_sums[block] <= target)
        cumulative += scratch.block_sums[block++];
    const size_t begin = block * kDrawBlock;
    const size_t end = std::min(begin + kDrawBlock, kept.row.size());
    int64_t last = -1;
    for (size_t i = begin; i < end; ++i) {
        const float weight = kept_weight(kept, i);
        if (weight <= 0.0f) continue;
        cumulative += weight;
        last = static_cast<int64_t>(i);
        if (cumulative > target) return last;
    }
    if (last >= 0) return last;
    return row_argmax(kept.row);  // an empty final block after rounding
}

float kept_weight(const KeptSet& kept, size_t id) {
    const float weight = fast_exp((kept.row[id] - kept.max) * kept.inv_temp);
    return weight >= kept.min_p ? weight : 0.0f;
}

}  // namespace ovllm::sampling
