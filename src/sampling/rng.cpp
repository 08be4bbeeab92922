#include "sampling/rng.hpp"

namespace ovllm::sampling {

uint64_t mix64(uint64_t value) {
    value += 0x9e3779b97f4a7c15ULL;
    value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
    return value ^ (value >> 31);
}

RngState RngState::from_seed(uint64_t seed) {
    return RngState{mix64(seed ^ 0x5eedULL), 0};
}

double uniform01(uint64_t key, uint64_t counter) {
    // Two rounds so that neighbouring keys and neighbouring counters both decorrelate.
    const uint64_t bits = mix64(mix64(key) ^ (counter * 0xd1b54a32d192ed03ULL));
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

double next_uniform(RngState& state) {
    return uniform01(state.key, state.counter++);
}

}  // namespace ovllm::sampling
