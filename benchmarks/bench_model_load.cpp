// Weight loading speed: dummy weights for a built-in config, and zero-copy safetensors.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "model/dummy_weights.hpp"
#include "model/model_config.hpp"
#include "model/safetensors_weights.hpp"
#include "test_paths.hpp"

namespace {

using ovllm::model::WeightUse;

// Every matrix and vector of a qwen2-style decoder: {shape, norm?}.
std::vector<ov::Shape> decoder_shapes(const ovllm::model::ModelConfig& c) {
    const size_t h = c.hidden_size, ffn = c.intermediate_size, v = c.vocab_size;
    const size_t q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
    std::vector<ov::Shape> shapes{{v, h}, {h}};
    if (!c.tie_word_embeddings) shapes.push_back({v, h});
    for (int64_t layer = 0; layer < c.num_hidden_layers; ++layer) {
        for (const ov::Shape& s : std::vector<ov::Shape>{{q, h},
                                                         {kv, h},
                                                         {kv, h},
                                                         {h, q},
                                                         {q},
                                                         {kv},
                                                         {kv},
                                                         {ffn, h},
                                                         {ffn, h},
                                                         {h, ffn},
                                                         {h},
                                                         {h}}) {
            shapes.push_back(s);
        }
    }
    return shapes;
}

// Fills every weight of Qwen1.5-1.8B-Chat (1.84 G parameters) in bf16.
void BM_DummyQwen18B(benchmark::State& state) {
    const auto config = *ovllm::model::builtin_model_config("Qwen/Qwen1.5-1.8B-Chat");
    const auto shapes = decoder_shapes(config);
    for (auto _ : state) {
        ovllm::model::DummyWeights weights(0, ov::element::bf16);
        for (size_t index = 0; index < shapes.size(); ++index) {
            auto output = weights.get(fmt::format("w{}", index), shapes[index], WeightUse::matmul);
            benchmark::DoNotOptimize(output);
        }
    }
    state.counters["params"] = static_cast<double>(config.parameter_count());
}
BENCHMARK(BM_DummyQwen18B)->Unit(benchmark::kMillisecond)->Iterations(1);

// Opens smollm2-135m and makes a Constant for every tensor (mmap, no copy).
void BM_SafetensorsSmolLM2(benchmark::State& state) {
    const auto dir = ovllm::test::models_dir() / "smollm2-135m";
    if (!std::filesystem::exists(dir)) {
        state.SkipWithError("smollm2-135m not fetched");
        return;
    }
    for (auto _ : state) {
        ovllm::model::SafetensorsWeights weights(dir);
        for (const auto& name : weights.model().names()) {
            auto output = weights.get(name, weights.model().tensor(name).shape, WeightUse::other);
            benchmark::DoNotOptimize(output);
        }
    }
}
BENCHMARK(BM_SafetensorsSmolLM2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
