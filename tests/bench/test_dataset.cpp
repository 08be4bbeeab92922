#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "bench/dataset.hpp"
#include "util/error.hpp"

namespace ovllm::bench {
namespace {

RandomDatasetOptions random_options() {
    RandomDatasetOptions options;
    options.num_requests = 50;
    options.input_len = 100;
    options.output_len = 20;
    options.vocab_size = 1000;
    return options;
}

TEST(RandomDataset, FixedLengthsWithoutRangeRatio) {
    const auto requests = random_requests(random_options());
    ASSERT_EQ(requests.size(), 50u);
    for (const BenchRequest& request : requests) {
        EXPECT_EQ(request.prompt_len, 100);
        EXPECT_EQ(request.prompt_token_ids.size(), 100u);
        EXPECT_EQ(request.output_len, 20);
        EXPECT_TRUE(request.prompt.empty());
    }
}

TEST(RandomDataset, RangeRatioBoundsLengths) {
    RandomDatasetOptions options = random_options();
    options.num_requests = 400;
    options.range_ratio = 0.5;
    const auto requests = random_requests(options);
    std::set<int> input_lens;
    std::set<int> output_lens;
    for (const BenchRequest& request : requests) {
        EXPECT_GE(request.prompt_len, 50);
        EXPECT_LE(request.prompt_len, 150);
        EXPECT_GE(request.output_len, 10);
        EXPECT_LE(request.output_len, 30);
        EXPECT_EQ(request.prompt_token_ids.size(), static_cast<size_t>(request.prompt_len));
        input_lens.insert(request.prompt_len);
        output_lens.insert(request.output_len);
    }
    // Uniform draws spread over the range: 400 draws over 101 input lengths give ~99
    // distinct values; over 21 output lengths, all of them.
    EXPECT_GT(input_lens.size(), 80u);
    EXPECT_EQ(output_lens.size(), 21u);
}

TEST(RandomDataset, SharedPrefixThenConsecutiveIds) {
    RandomDatasetOptions options = random_options();
    options.prefix_len = 16;
    const auto requests = random_requests(options);
    const std::vector<int32_t> prefix(requests[0].prompt_token_ids.begin(),
                                      requests[0].prompt_token_ids.begin() + 16);
    for (const BenchRequest& request : requests) {
        ASSERT_EQ(request.prompt_len, 116);
        EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), request.prompt_token_ids.begin()));
        for (size_t t = 16; t + 1 < request.prompt_token_ids.size(); ++t) {
            EXPECT_EQ(request.prompt_token_ids[t + 1], (request.prompt_token_ids[t] + 1) % 1000);
        }
        for (const int32_t id : request.prompt_token_ids) {
            EXPECT_GE(id, 0);
            EXPECT_LT(id, 1000);
        }
    }
}

TEST(RandomDataset, SeedReproducibility) {
    RandomDatasetOptions options = random_options();
    options.range_ratio = 0.3;
    options.prefix_len = 4;
    const auto first = random_requests(options);
    const auto again = random_requests(options);
    options.seed = 1;
    const auto other = random_requests(options);
    ASSERT_EQ(first.size(), again.size());
    bool any_difference = false;
    for (size_t i = 0; i < first.size(); ++i) {
        EXPECT_EQ(first[i].prompt_token_ids, again[i].prompt_token_ids);
        EXPECT_EQ(first[i].output_len, again[i].output_len);
        any_difference |= first[i].prompt_token_ids != other[i].prompt_token_ids;
    }
    EXPECT_TRUE(any_difference);
}

TEST(RandomDataset, RejectsBadOptions) {
    RandomDatasetOptions options = random_options();
    options.range_ratio = 1.0;
    EXPECT_THROW(random_requests(options), Error);
    options = random_options();
    options.vocab_size = 0;
    EXPECT_THROW(random_requests(options), Error);
    options = random_options();
    options.input_len = 0;
    try {
        random_requests(options);
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "--input-len: must be >= 1 (got 0)");
    }
}

// One token per word: the id is the word's length.
std::vector<int32_t> words(const std::string& text) {
    std::istringstream stream(text);
    std::vector<int32_t> ids;
    for (std::string word; stream >> word;) ids.push_back(static_cast<int32_t>(word.size()));
    return ids;
}

std::string repeat(const std::string& word, int times) {
    std::string text;
    for (int i = 0; i < times; ++i) text += word + " ";
    return text;
}

nlohmann::json conversation(const std::vector<std::string>& turns) {
    nlohmann::json entry;
    entry["id"] = "x";
    entry["conversations"] = nlohmann::json::array();
    for (size_t i = 0; i < turns.size(); ++i) {
        entry["conversations"].push_back({{"from", i % 2 ? "gpt" : "human"}, {"value", turns[i]}});
    }
    return entry;
}

nlohmann::json sample_dataset() {
    return nlohmann::json::array({
        conversation({"only one turn here at all"}),
        conversation({"a b c", "too short a prompt ok"}),      // prompt 3 tokens
        conversation({"prompt one is long enough", "a b c"}),  // completion 3 tokens
        conversation({"first good prompt here", "first good answer here ok"}),
        conversation({"second good prompt here now", "second answer x y", "third turn ignored"}),
        conversation({"third good prompt is here", "third answer a b c d"}),
        conversation({repeat("w", 1025), "long prompt answer here"}),  // prompt > 1024
        conversation({repeat("w", 1000), repeat("v", 1049)}),          // total 2049 > 2048
    });
}

TEST(ShareGpt, KeepsFirstTwoTurnsAndPrunesLikeVllm) {
    ShareGptOptions options;
    options.num_requests = 100;
    const auto requests = sharegpt_requests(sample_dataset(), "test.json", options, words);
    ASSERT_EQ(requests.size(), 3u);
    std::set<std::string> prompts;
    for (const BenchRequest& request : requests) {
        prompts.insert(request.prompt);
        EXPECT_EQ(request.prompt_len, static_cast<int>(request.prompt_token_ids.size()));
        EXPECT_EQ(request.prompt_token_ids, words(request.prompt));
        if (request.prompt == "second good prompt here now") {
            EXPECT_EQ(request.prompt_len, 5);
            EXPECT_EQ(request.output_len, 4);
        }
    }
    EXPECT_EQ(prompts,
              (std::set<std::string>{"first good prompt here", "second good prompt here now",
                                     "third good prompt is here"}));
}

TEST(ShareGpt, FixedOutputLenAndCount) {
    ShareGptOptions options;
    options.num_requests = 4;
    options.fixed_output_len = 4;  // the 3-token completion no longer prunes its entry
    const auto requests = sharegpt_requests(sample_dataset(), "test.json", options, words);
    ASSERT_EQ(requests.size(), 4u);
    for (const BenchRequest& request : requests) EXPECT_EQ(request.output_len, 4);
    options.num_requests = 2;
    EXPECT_EQ(sharegpt_requests(sample_dataset(), "test.json", options, words).size(), 2u);
}

TEST(ShareGpt, SeededShuffle) {
    ShareGptOptions options;
    options.num_requests = 100;
    const auto order = [&](uint64_t seed) {
        options.seed = seed;
        std::vector<std::string> prompts;
        for (const auto& r : sharegpt_requests(sample_dataset(), "t", options, words)) {
            prompts.push_back(r.prompt);
        }
        return prompts;
    };
    EXPECT_EQ(order(3), order(3));
    std::set<std::vector<std::string>> orders;
    for (uint64_t seed = 0; seed < 20; ++seed) orders.insert(order(seed));
    EXPECT_GT(orders.size(), 1u);
}

std::string error_of(const nlohmann::json& dataset) {
    try {
        sharegpt_requests(dataset, "data.json", ShareGptOptions{}, words);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(ShareGpt, MalformedEntriesNameTheFileAndEntry) {
    EXPECT_EQ(error_of(nlohmann::json::object()),
              "data.json: expected a JSON array of conversations");
    EXPECT_EQ(error_of(nlohmann::json::array({conversation({"a b c d", "e f g h"}), {{"id", 1}}})),
              "data.json: entry 1: missing 'conversations' array");
    nlohmann::json bad = nlohmann::json::array({conversation({"a b c d", "e f g h"})});
    bad[0]["conversations"][1].erase("value");
    EXPECT_EQ(error_of(bad), "data.json: entry 0: conversations[1] has no string 'value'");
}

TEST(ShareGpt, LoadsFromFile) {
    const auto dir = std::filesystem::temp_directory_path();
    const auto path = dir / "ovllm_test_sharegpt.json";
    std::ofstream(path) << sample_dataset().dump();
    ShareGptOptions options;
    options.num_requests = 10;
    EXPECT_EQ(load_sharegpt(path, options, words).size(), 3u);
    std::ofstream(path) << "[{\"conversations\": ";
    EXPECT_THROW(load_sharegpt(path, options, words), Error);
    std::filesystem::remove(path);
    try {
        load_sharegpt(dir / "ovllm_missing.json", options, words);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  (dir / "ovllm_missing.json").string() + ": cannot open the dataset file");
    }
}

}  // namespace
}  // namespace ovllm::bench
