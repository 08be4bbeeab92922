#pragma once
// Counter-based random numbers: draw k of a stream depends only on (key, k), so a seeded
// request gets the same draws whatever else shares its batch, and no generator state
// beyond one counter has to travel with a sequence.
#include <cstdint>

namespace ovllm::sampling {

// One sequence's generator. The sequence owns it; the sampler advances `counter` by one
// per random draw (greedy rows draw nothing).
struct RngState {
    uint64_t key = 0;
    uint64_t counter = 0;

    // Key for a request's `seed`. Parallel completions of one request should use distinct
    // seeds (e.g. seed + index) so their streams differ.
    static RngState from_seed(uint64_t seed);
};

// SplitMix64 finaliser: a bijective 64-bit mix with full avalanche.
uint64_t mix64(uint64_t value);

// Uniform double in [0, 1) with 53 random bits, for draw `counter` of stream `key`.
double uniform01(uint64_t key, uint64_t counter);

// Returns the next uniform of `state` and advances it.
double next_uniform(RngState& state);

}  // namespace ovllm::sampling
