#pragma once
// Shared by the runner tests: golden files of ../shared/golden/models/<name>, simple block
// tables, and logits comparisons.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/safetensors.hpp"
#include "runner/model_runner.hpp"
#include "test_paths.hpp"

namespace ovllm::test {

// The tiny golden models of ../shared/golden, one per architecture quirk.
inline const std::vector<std::string>& tiny_golden_models() {
    static const std::vector<std::string> names = {
        "llama", "llama-bf16", "llama-rope3", "qwen2", "qwen3", "opt", "gpt2", "mistral", "gemma3"};
    return names;
}

// gtest instance names for model-parameterized suites: "llama-bf16" -> "llama_bf16".
struct GoldenModelParamName {
    std::string operator()(const ::testing::TestParamInfo<std::string>& info) const {
        std::string name = info.param;
        std::replace(name.begin(), name.end(), '-', '_');
        return name;
    }
};

struct GoldenPrompt {
    std::string name;
    std::vector<int64_t> ids;
    std::vector<int64_t> greedy;
    std::string logits_tensor;           // [len(ids), vocab]
    std::string gen_logits_tensor;       // [len(greedy), vocab]
    std::vector<double> greedy_margins;  // top-2 logit gap at each greedy step
};

struct Golden {
    std::filesystem::path folder;
    std::vector<GoldenPrompt> prompts;
    model::SafetensorsFile tensors;

    explicit Golden(const std::string& model)
        : folder(golden_dir() / "models" / model), tensors(folder / "golden.safetensors") {
        std::ifstream in(folder / "golden.json");
        const auto json = nlohmann::json::parse(in);
        for (const auto& p : json.at("prompts")) {
            prompts.push_back({p.at("name"), p.at("ids").get<std::vector<int64_t>>(),
                               p.at("greedy").get<std::vector<int64_t>>(), p.at("logits_tensor"),
                               p.at("gen_logits_tensor"),
                               p.at("greedy_top2_margins").get<std::vector<double>>()});
        }
    }
    // Row `row` of a [rows, vocab] golden tensor.
    const float* row(const std::string& tensor, size_t row) const {
        const model::TensorView& view = tensors.tensors().at(tensor);
        return static_cast<const float*>(view.data) + row * view.shape.at(1);
    }
};

inline double max_abs_diff(const float* a, const float* b, size_t n) {
    double worst = 0.0;
    for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    return worst;
}

inline int64_t argmax(const float* row, size_t n) {
    return std::max_element(row, row + n) - row;
}

// Block ids [first, first + count).
inline std::vector<int32_t> block_range(int32_t first, int32_t count) {
    std::vector<int32_t> ids(static_cast<size_t>(count));
    for (int32_t i = 0; i < count; ++i) ids[static_cast<size_t>(i)] = first + i;
    return ids;
}

inline int32_t blocks_for(size_t tokens, int block_size) {
    return static_cast<int32_t>((tokens + static_cast<size_t>(block_size) - 1) /
                                static_cast<size_t>(block_size));
}

inline runner::RunnerOptions exact_options(size_t blocks) {
    runner::RunnerOptions options;
    options.inference_precision = ov::element::f32;
    options.kv_cache_precision = ov::element::f32;
    options.num_kv_blocks = blocks;
    return options;
}

}  // namespace ovllm::test
