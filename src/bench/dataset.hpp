#pragma once
// Request sets for `ovllm bench throughput`: vLLM's random dataset (token-id prompts) and
// the ShareGPT JSON file. Lengths are in tokens.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ovllm::bench {

struct BenchRequest {
    std::string prompt;                     // text (ShareGPT); empty for the random dataset
    std::vector<int32_t> prompt_token_ids;  // [prompt_len]; empty when only `prompt` is known
    int prompt_len = 0;
    int output_len = 0;  // tokens to generate (ignore_eos)
};

struct RandomDatasetOptions {
    int num_requests = 1000;
    int input_len = 1024;  // tokens after the shared prefix
    int output_len = 128;
    double range_ratio = 0.0;  // lengths drawn from [len*(1-r), len*(1+r)]; 0 <= r < 1
    int prefix_len = 0;        // tokens every prompt starts with
    int64_t vocab_size = 0;    // token ids are drawn from [0, vocab_size)
    uint64_t seed = 0;
};

// vLLM's random dataset: a random shared prefix, then per request a run of consecutive
// token ids (mod vocab) from a random offset; lengths uniform in the ranges above (at least
// one token each). The same options always give the same requests. Throws ovllm::Error on
// an invalid option.
std::vector<BenchRequest> random_requests(const RandomDatasetOptions& options);

// Text -> token ids (the caller's tokenizer).
using Tokenize = std::function<std::vector<int32_t>(const std::string& text)>;

struct ShareGptOptions {
    int num_requests = 1000;
    uint64_t seed = 0;
    std::optional<int> fixed_output_len;  // instead of the completion's token count
};

// ShareGPT: `[{"conversations": [{"from": ..., "value": ...}, ...]}, ...]`. Keeps entries
// with two turns or more, takes turn 0 as the prompt and turn 1 as the completion, shuffles
// them (seeded), and takes the first `num_requests` that pass vLLM's pruning: prompt and
// output at least 4 tokens, prompt at most 1024, prompt + output at most 2048. May return
// fewer requests when the file runs out. `source` names the data in error messages.
std::vector<BenchRequest> sharegpt_requests(const nlohmann::json& dataset,
                                            const std::string& source,
                                            const ShareGptOptions& options,
                                            const Tokenize& tokenize);
// The same, read from a file; the error names the file.
std::vector<BenchRequest> load_sharegpt(const std::filesystem::path& path,
                                        const ShareGptOptions& options, const Tokenize& tokenize);

}  // namespace ovllm::bench
