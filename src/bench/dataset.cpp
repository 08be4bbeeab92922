#include "bench/dataset.hpp"

#include <fstream>
#include <random>
#include <utility>

#include "util/error.hpp"

namespace ovllm::bench {
namespace {

constexpr int kMinSharegptTokens = 4;
constexpr int kMaxSharegptPrompt = 1024;
constexpr int kMaxSharegptTotal = 2048;

// Uniform integer in [low, high] from a 64-bit engine, the same on every platform
// (std::uniform_int_distribution is implementation-defined).
class SeededDraw {
  public:
    explicit SeededDraw(uint64_t seed) : engine_(seed) {}

    int64_t between(int64_t low, int64_t high) {
        const uint64_t span = static_cast<uint64_t>(high - low) + 1;
        if (span == 0) return static_cast<int64_t>(engine_());
        // Reject the top partial range so every value is equally likely.
        const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
        uint64_t value = engine_();
        while (value >= limit) value = engine_();
        return low + static_cast<int64_t>(value % span);
    }

  private:
    std::mt19937_64 engine_;
};

std::pair<int, int> length_range(int length, double ratio) {
    const int low = static_cast<int>(length * (1.0 - ratio));
    const int high = static_cast<int>(length * (1.0 + ratio));
    return {std::max(low, 1), std::max(high, 1)};
}

void check_random_options(const RandomDatasetOptions& options) {
    if (options.num_requests < 1) {
        throw_error("--num-prompts: must be >= 1 (got {})", options.num_requests);
    }
    if (options.input_len < 1) throw_error("--input-len: must be >= 1 (got {})", options.input_len);
    if (options.output_len < 1) {
        throw_error("--output-len: must be >= 1 (got {})", options.output_len);
    }
    if (!(options.range_ratio >= 0.0 && options.range_ratio < 1.0)) {
        throw_error("--random-range-ratio: must be in [0, 1) (got {})", options.range_ratio);
    }
    if (options.prefix_len < 0) {
        throw_error("--prefix-len: must be >= 0 (got {})", options.prefix_len);
    }
    if (options.vocab_size < 1) {
        throw_error("random dataset: vocab size must be >= 1 (got {})", options.vocab_size);
    }
}

const nlohmann::json& turn_text(const nlohmann::json& turns, size_t turn, const std::string& source,
                                size_t entry) {
    const nlohmann::json& item = turns[turn];
    if (!item.is_object() || !item.contains("value") || !item["value"].is_string()) {
        throw_error("{}: entry {}: conversations[{}] has no string 'value'", source, entry, turn);
    }
    return item["value"];
}

// (prompt, completion) of every entry with at least two turns, in file order.
std::vector<std::pair<std::string, std::string>> first_two_turns(const nlohmann::json& dataset,
                                                                 const std::string& source) {
    if (!dataset.is_array()) throw_error("{}: expected a JSON array of conversations", source);
    std::vector<std::pair<std::string, std::string>> pairs;
    for (size_t i = 0; i < dataset.size(); ++i) {
        const nlohmann::json& entry = dataset[i];
        if (!entry.is_object() || !entry.contains("conversations") ||
            !entry["conversations"].is_array()) {
            throw_error("{}: entry {}: missing 'conversations' array", source, i);
        }
        const nlohmann::json& turns = entry["conversations"];
        if (turns.size() < 2) continue;
        pairs.emplace_back(turn_text(turns, 0, source, i).get<std::string>(),
                           turn_text(turns, 1, source, i).get<std::string>());
    }
    return pairs;
}

}  // namespace

std::vector<BenchRequest> random_requests(const RandomDatasetOptions& options) {
    check_random_options(options);
    SeededDraw draw(options.seed);
    const int64_t vocab = options.vocab_size;
    std::vector<int32_t> prefix(static_cast<size_t>(options.prefix_len));
    for (int32_t& id : prefix) id = static_cast<int32_t>(draw.between(0, vocab - 1));

    const auto [input_low, input_high] = length_range(options.input_len, options.range_ratio);
    const auto [output_low, output_high] = length_range(options.output_len, options.range_ratio);
    std::vector<BenchRequest> requests(static_cast<size_t>(options.num_requests));
    for (size_t i = 0; i < requests.size(); ++i) {
        BenchRequest& request = requests[i];
        const int input_len = static_cast<int>(draw.between(input_low, input_high));
        request.output_len = static_cast<int>(draw.between(output_low, output_high));
        const int64_t offset = draw.between(0, vocab - 1);
        request.prompt_token_ids.reserve(prefix.size() + static_cast<size_t>(input_len));
        request.prompt_token_ids = prefix;
        for (int t = 0; t < input_len; ++t) {
            const int64_t id = (offset + static_cast<int64_t>(i) + t) % vocab;
            request.prompt_token_ids.push_back(static_cast<int32_t>(id));
        }
        request.prompt_len = static_cast<int>(request.prompt_token_ids.size());
    }
    return requests;
}

std::vector<BenchRequest> sharegpt_requests(const nlohmann::json& dataset,
                                            const std::string& source,
                                            const ShareGptOptions& options,
                                            const Tokenize& tokenize) {
    if (options.num_requests < 1) {
        throw_error("--num-prompts: must be >= 1 (got {})", options.num_requests);
    }
    std::vector<std::pair<std::string, std::string>> pairs = first_two_turns(dataset, source);
    SeededDraw draw(options.seed);
    for (size_t i = pairs.size(); i > 1; --i) {  // Fisher-Yates
        std::swap(pairs[i - 1],
                  pairs[static_cast<size_t>(draw.between(0, static_cast<int64_t>(i) - 1))]);
    }
    std::vector<BenchRequest> requests;
    for (auto& [prompt, completion] : pairs) {
        if (requests.size() == static_cast<size_t>(options.num_requests)) break;
        std::vector<int32_t> prompt_ids = tokenize(prompt);
        const int prompt_len = static_cast<int>(prompt_ids.size());
        const int output_len = options.fixed_output_len
                                   ? *options.fixed_output_len
                                   : static_cast<int>(tokenize(completion).size());
        if (prompt_len < kMinSharegptTokens || output_len < kMinSharegptTokens) continue;
        if (prompt_len > kMaxSharegptPrompt || prompt_len + output_len > kMaxSharegptTotal)
            continue;
        requests.push_back({std::move(prompt), std::move(prompt_ids), prompt_len, output_len});
    }
    return requests;
}

std::vector<BenchRequest> load_sharegpt(const std::filesystem::path& path,
                                        const ShareGptOptions& options, const Tokenize& tokenize) {
    std::ifstream file(path);
    if (!file) throw_error("{}: cannot open the dataset file", path.string());
    nlohmann::json dataset;
    try {
        dataset = nlohmann::json::parse(file);
    } catch (const nlohmann::json::parse_error& e) {
        throw_error("{}: not valid JSON ({})", path.string(), e.what());
    }
    return sharegpt_requests(dataset, path.string(), options, tokenize);
}

}  // namespace ovllm::bench
