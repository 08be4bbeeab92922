#pragma once
// The BPE model of tokenizer.json ("model": {"type": "BPE"}): vocabulary, ranked merges,
// unk/fuse_unk, byte_fallback, ignore_merges, continuing_subword_prefix, end_of_word_suffix.
// tokenize() is const and thread-safe; results for short words are cached (bounded).
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_util.hpp"

namespace ovllm::tokenizer {

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};
using Vocab = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

}  // namespace ovllm::tokenizer

#ifdef __GLIBCXX__
// libstdc++ stores each key's hash in its node only for hashes it deems slow; without that a
// lookup rehashes every key in the bucket it walks, which made loading a vocabulary slow.
template <>
struct std::__is_fast_hash<ovllm::tokenizer::StringHash> : std::false_type {};
#endif

namespace ovllm::tokenizer {

// Open-addressing map from a packed token pair (left << 32 | right) to its merge.
class MergeMap {
  public:
    struct Merge {
        int32_t rank;    // position in the merges list; lower merges first
        int32_t new_id;  // id of the merged token
    };
    void reserve(size_t count);
    // Keeps the first (best ranked) merge of a pair that appears twice.
    void insert(int32_t left, int32_t right, Merge merge);
    const Merge* find(int32_t left, int32_t right) const {
        if (slots_.empty()) return nullptr;
        const uint64_t key = pack(left, right);
        for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
            const Slot& slot = slots_[i];
            if (slot.key == key) return &slot.merge;
            if (slot.key == kEmpty) return nullptr;
        }
    }
    size_t size() const { return count_; }

  private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    struct Slot {
        uint64_t key = kEmpty;
        Merge merge{};
    };
    static uint64_t pack(int32_t left, int32_t right) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
               static_cast<uint32_t>(right);
    }
    static size_t hash(uint64_t key) {
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20);
    }
    std::vector<Slot> slots_;
    size_t mask_ = 0;
    size_t count_ = 0;
};

class BpeModel {
  public:
    using VocabEntries = std::vector<std::pair<std::string, int64_t>>;
    using MergeEntries = std::vector<std::pair<std::string, std::string>>;
    // `config` is the "model" object without vocab and merges, which come as read by
    // parse_tokenizer_json; errors name `at` (file and JSON path of the model).
    static BpeModel build(const Json& config, const VocabEntries& vocab, const MergeEntries& merges,
                          const JsonPath& at);
    BpeModel(BpeModel&&) noexcept;
    BpeModel& operator=(BpeModel&&) noexcept;
    ~BpeModel();

    // Appends the ids of one pre-tokenized word.
    void tokenize(std::string_view word, std::vector<int64_t>& out) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;
    // Largest id + 1 of the vocabulary; tokens holds "" for unused ids.
    size_t id_space() const { return tokens_.size(); }
    const std::vector<std::string>& tokens() const { return tokens_; }
    bool has_id(int64_t id) const;

  private:
    BpeModel();
    struct Cache;
    void merge_word(std::string_view word, std::vector<int32_t>& ids) const;
    int32_t lookup_char(std::string_view ch, bool first, bool last) const;

    Vocab vocab_;
    std::vector<std::string> tokens_;  // [id] -> token, "" where no token has the id
    std::vector<uint8_t> present_;     // [id] -> 1 when the vocabulary has the id
    MergeMap merges_;
    std::optional<int32_t> unk_id_;
    bool fuse_unk_ = false;
    bool byte_fallback_ = false;
    bool ignore_merges_ = false;
    std::string prefix_;                   // continuing_subword_prefix
    std::string suffix_;                   // end_of_word_suffix
    std::array<int32_t, 256> byte_ids_{};  // id of "<0xNN>" or -1
    std::vector<int32_t> char_ids_;        // id of each single character below U+3000, or -1
    std::unique_ptr<Cache> cache_;
};

}  // namespace ovllm::tokenizer
