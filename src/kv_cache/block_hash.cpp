#include "kv_cache/block_hash.hpp"

#include <bit>

namespace ovllm::kv {
namespace {

// Odd 64-bit constants with well-spread bits (the xxHash64 primes).
constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kRootSeed = 0x27D4EB2F165667C5ULL;

// Every input bit affects every output bit with probability close to 1/2.
constexpr uint64_t avalanche(uint64_t h) {
    h ^= h >> 33;
    h *= kPrime2;
    h ^= h >> 29;
    h *= kPrime3;
    h ^= h >> 32;
    return h;
}

constexpr uint64_t round(uint64_t acc, uint64_t input) {
    acc += input * kPrime2;
    acc = std::rotl(acc, 31);
    return acc * kPrime1;
}

}  // namespace

BlockHash root_hash(uint64_t extra_key) {
    return avalanche(round(kRootSeed, extra_key));
}

BlockHash hash_block(BlockHash parent, std::span<const TokenId> token_ids) {
    uint64_t acc = round(kPrime3, parent);
    for (const TokenId token : token_ids) {
        acc = round(acc, static_cast<uint64_t>(token));
    }
    acc ^= static_cast<uint64_t>(token_ids.size());
    return avalanche(acc);
}

uint64_t combine_keys(uint64_t a, uint64_t b) {
    return avalanche(round(round(kPrime1, a), b));
}

}  // namespace ovllm::kv
