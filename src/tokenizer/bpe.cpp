#include "tokenizer/bpe.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <shared_mutex>

#include <fmt/format.h>

#include "tokenizer/fast_json.hpp"
#include "util/utf8.hpp"

namespace ovllm::tokenizer {

// ---- MergeMap -------------------------------------------------------------------------------

void MergeMap::reserve(size_t count) {
    size_t capacity = 16;
    while (capacity < count * 2) capacity <<= 1;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    count_ = 0;
}

void MergeMap::insert(int32_t left, int32_t right, Merge merge) {
    if (slots_.empty() || (count_ + 1) * 2 > slots_.size()) {
        std::vector<Slot> old = std::move(slots_);
        reserve(std::max<size_t>(count_ + 1, old.size()));
        for (const Slot& slot : old) {
            if (slot.key != kEmpty) {
                insert(static_cast<int32_t>(slot.key >> 32),
                       static_cast<int32_t>(slot.key & 0xFFFFFFFFu), slot.merge);
            }
        }
    }
    const uint64_t key = pack(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
        Slot& slot = slots_[i];
        if (slot.key == key) return;
        if (slot.key == kEmpty) {
            slot.key = key;
            slot.merge = merge;
            ++count_;
            return;
        }
    }
}

// ---- word cache -----------------------------------------------------------------------------

struct BpeModel::Cache {
    static constexpr size_t kShards = 16;
    static constexpr size_t kShardCapacity = 4096;  // entries; a full shard is emptied
    static constexpr size_t kMaxWordBytes = 256;    // longer words are not cached

    struct Shard {
        std::shared_mutex mutex;
        std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map;
    };
    std::array<Shard, kShards> shards;

    Shard& shard_for(std::string_view word) { return shards[(StringHash{}(word) >> 7) % kShards]; }
    bool lookup(std::string_view word, std::vector<int64_t>& out) {
        Shard& shard = shard_for(word);
        const std::shared_lock lock(shard.mutex);
        const auto it = shard.map.find(word);
        if (it == shard.map.end()) return false;
        out.insert(out.end(), it->second.begin(), it->second.end());
        return true;
    }
    void store(std::string_view word, const std::vector<int32_t>& ids) {
        Shard& shard = shard_for(word);
        const std::unique_lock lock(shard.mutex);
        if (shard.map.size() >= kShardCapacity) shard.map.clear();
        shard.map.emplace(std::string(word), ids);
    }
};

// ---- loading --------------------------------------------------------------------------------

BpeModel::BpeModel() : cache_(std::make_unique<Cache>()) {}
BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;
BpeModel::~BpeModel() = default;

namespace {

std::optional<std::string> optional_string(const Json& node, const JsonPath& at,
                                           std::string_view key) {
    const Json* value = json_find(node, key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) json_fail(at / key, "expected a string or null");
    return value->get<std::string>();
}

}  // namespace

BpeModel BpeModel::build(const Json& node, const VocabEntries& vocab, const MergeEntries& merges,
                         const JsonPath& at) {
    BpeModel model;
    model.vocab_.reserve(vocab.size());
    int64_t max_id = -1;
    for (const auto& [token, id] : vocab) {
        if (id < 0 || id > INT32_MAX)
            json_fail(at / "vocab" / token, "expected an integer id from 0 to 2^31-1");
        model.vocab_.insert_or_assign(token, static_cast<int32_t>(id));
        max_id = std::max(max_id, id);
    }
    model.tokens_.resize(static_cast<size_t>(max_id + 1));
    model.present_.assign(model.tokens_.size(), 0);
    for (const auto& [token, id] : model.vocab_) {
        model.tokens_[static_cast<size_t>(id)] = token;
        model.present_[static_cast<size_t>(id)] = 1;
    }

    model.prefix_ = optional_string(node, at, "continuing_subword_prefix").value_or("");
    model.suffix_ = optional_string(node, at, "end_of_word_suffix").value_or("");
    model.fuse_unk_ = json_bool_or(node, at, "fuse_unk", false);
    model.byte_fallback_ = json_bool_or(node, at, "byte_fallback", false);
    model.ignore_merges_ = json_bool_or(node, at, "ignore_merges", false);
    if (const auto unk = optional_string(node, at, "unk_token")) {
        const auto it = model.vocab_.find(*unk);
        if (it == model.vocab_.end()) {
            json_fail(at / "unk_token", fmt::format("token '{}' is not in the vocabulary", *unk));
        }
        model.unk_id_ = it->second;
    }
    for (int b = 0; b < 256; ++b) {
        const auto it = model.vocab_.find(fmt::format("<0x{:02X}>", b));
        model.byte_ids_[b] = it == model.vocab_.end() ? -1 : it->second;
    }
    model.char_ids_.assign(0x3000, -1);
    for (const auto& [token, id] : model.vocab_) {
        if (token.empty() ||
            utf8::sequence_length(static_cast<unsigned char>(token[0])) != token.size()) {
            continue;
        }
        size_t pos = 0;
        const char32_t cp = utf8::next(token, pos);
        if (cp < model.char_ids_.size()) model.char_ids_[cp] = id;
    }

    model.merges_.reserve(merges.size());
    const size_t prefix_len = model.prefix_.size();
    std::string merged;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const JsonPath where = (at / "merges")[rank];
        const auto& [left, right] = merges[rank];
        if (right == kBadMerge)
            json_fail(where, "expected a merge as \"left right\" or [\"left\", \"right\"]");
        const auto left_it = model.vocab_.find(left);
        const auto right_it = model.vocab_.find(right);
        if (left_it == model.vocab_.end() || right_it == model.vocab_.end()) {
            json_fail(where, fmt::format("token '{}' is not in the vocabulary",
                                         left_it == model.vocab_.end() ? left : right));
        }
        merged.assign(left);
        const std::string_view right_view(right);
        const std::string_view tail =
            prefix_len > 0 && right_view.substr(0, prefix_len) == model.prefix_
                ? right_view.substr(prefix_len)
                : right_view;
        merged.append(tail);
        const auto merged_it = model.vocab_.find(merged);
        if (merged_it == model.vocab_.end()) {
            json_fail(where, fmt::format("merged token '{}' is not in the vocabulary", merged));
        }
        model.merges_.insert(left_it->second, right_it->second,
                             {static_cast<int32_t>(rank), merged_it->second});
    }
    return model;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
    const auto it = vocab_.find(token);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
}

bool BpeModel::has_id(int64_t id) const {
    return id >= 0 && static_cast<size_t>(id) < present_.size() &&
           present_[static_cast<size_t>(id)];
}

// ---- encoding -------------------------------------------------------------------------------

int32_t BpeModel::lookup_char(std::string_view ch, bool first, bool last) const {
    if ((first || prefix_.empty()) && (!last || suffix_.empty())) {
        size_t pos = 0;
        const char32_t cp = utf8::next(ch, pos);
        if (cp < char_ids_.size()) return char_ids_[cp];
        const auto it = vocab_.find(ch);
        return it == vocab_.end() ? -1 : it->second;
    }
    std::string spelled;
    if (!first) spelled.append(prefix_);
    spelled.append(ch);
    if (last) spelled.append(suffix_);
    const auto it = vocab_.find(spelled);
    return it == vocab_.end() ? -1 : it->second;
}

namespace {

struct Symbol {
    int32_t id;
    int32_t prev;  // index of the previous live symbol, -1 at the start
    int32_t next;  // index of the next live symbol, -1 at the end
    bool live;
};

struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t new_id;
    // std heap is a max-heap: "less" means lower priority (higher rank, then later position).
    bool operator<(const Candidate& other) const {
        return rank != other.rank ? rank > other.rank : pos > other.pos;
    }
};

}  // namespace

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& ids) const {
    thread_local std::vector<Symbol> symbols;
    thread_local std::vector<Candidate> heap;
    symbols.clear();
    heap.clear();
    const auto add = [&](int32_t id) {
        const auto index = static_cast<int32_t>(symbols.size());
        if (index > 0) symbols.back().next = index;
        symbols.push_back({id, index - 1, -1, true});
    };

    // Initial symbols: one per character, with unk and byte fallback as the model says.
    int32_t pending_unk = -1;  // an unk id not yet added (fuse_unk grows it)
    size_t pos = 0;
    while (pos < word.size()) {
        const size_t start = pos;
        pos += std::min(utf8::sequence_length(static_cast<unsigned char>(word[pos])),
                        word.size() - pos);
        const std::string_view ch = word.substr(start, pos - start);
        const int32_t id = lookup_char(ch, start == 0, pos == word.size());
        if (id >= 0) {
            if (pending_unk >= 0) add(pending_unk);
            pending_unk = -1;
            add(id);
            continue;
        }
        if (byte_fallback_) {
            const bool all = std::all_of(ch.begin(), ch.end(), [&](char c) {
                return byte_ids_[static_cast<unsigned char>(c)] >= 0;
            });
            if (all) {
                for (const char c : ch) add(byte_ids_[static_cast<unsigned char>(c)]);
                continue;
            }
        }
        if (unk_id_) {
            if (pending_unk >= 0 && !fuse_unk_) add(pending_unk);
            pending_unk = *unk_id_;
        }
        // Without an unk token the character is dropped.
    }
    if (pending_unk >= 0) add(pending_unk);

    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        if (const MergeMap::Merge* m = merges_.find(symbols[i].id, symbols[i + 1].id)) {
            heap.push_back({m->rank, static_cast<int32_t>(i), m->new_id});
        }
    }
    std::make_heap(heap.begin(), heap.end());
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end());
        const Candidate top = heap.back();
        heap.pop_back();
        Symbol& left = symbols[top.pos];
        if (!left.live || left.next < 0) continue;
        const Symbol right = symbols[left.next];
        const MergeMap::Merge* current = merges_.find(left.id, right.id);
        if (current == nullptr || current->new_id != top.new_id) continue;  // stale entry
        symbols[left.next].live = false;
        left.id = top.new_id;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = top.pos;
        if (left.prev >= 0) {
            if (const MergeMap::Merge* m = merges_.find(symbols[left.prev].id, left.id)) {
                heap.push_back({m->rank, left.prev, m->new_id});
                std::push_heap(heap.begin(), heap.end());
            }
        }
        if (left.next >= 0) {
            if (const MergeMap::Merge* m = merges_.find(left.id, symbols[left.next].id)) {
                heap.push_back({m->rank, top.pos, m->new_id});
                std::push_heap(heap.begin(), heap.end());
            }
        }
    }
    for (const Symbol& s : symbols) {
        if (s.live) ids.push_back(s.id);
    }
}

void BpeModel::tokenize(std::string_view word, std::vector<int64_t>& out) const {
    if (word.empty()) return;
    if (ignore_merges_) {
        const auto it = vocab_.find(word);
        if (it != vocab_.end()) {
            out.push_back(it->second);
            return;
        }
    }
    const bool cacheable = word.size() <= Cache::kMaxWordBytes;
    if (cacheable && cache_->lookup(word, out)) return;
    thread_local std::vector<int32_t> ids;
    ids.clear();
    merge_word(word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) cache_->store(word, ids);
}

}  // namespace ovllm::tokenizer
