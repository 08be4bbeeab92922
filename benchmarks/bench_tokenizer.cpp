// Tokenizer speed: encode MB/s on a ~1 MB mixed corpus (prose, code, CJK, ... : the texts of
// golden/tokenizers/*/cases.jsonl joined by "\n" and repeated), one thread, for each golden
// tokenizer; decode and streaming detokenization of the result; loading tokenizer.json.
// scripts/bench_tokenizer_hf.py builds the same corpus for Hugging Face `tokenizers`.
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "test_paths.hpp"
#include "tokenizer/detokenizer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

using ovllm::tokenizer::Tokenizer;

std::filesystem::path tokenizer_dir(const std::string& name) {
    return ovllm::test::golden_dir() / "tokenizers" / name;
}

struct Corpus {
    std::string text;  // the case texts joined by "\n", repeated to >= 1,000,000 bytes
    std::vector<std::string> pieces;  // the same texts, one encode call each
};

const Corpus& corpus_data() {
    static const Corpus data = [] {
        std::ifstream in(tokenizer_dir("smollm2") / "cases.jsonl");
        std::vector<std::string> texts;
        std::string line;
        while (std::getline(in, line))
            texts.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
        std::string unit;
        for (size_t i = 0; i < texts.size(); ++i) {
            if (i > 0) unit.push_back('\n');
            unit += texts[i];
        }
        Corpus c{unit, texts};
        while (c.text.size() < 1000000) {
            c.text += "\n" + unit;
            c.pieces.insert(c.pieces.end(), texts.begin(), texts.end());
        }
        return c;
    }();
    return data;
}

const std::string& corpus() {
    return corpus_data().text;
}

const Tokenizer& tokenizer(const std::string& name) {
    static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
    auto& slot = loaded[name];
    if (!slot) slot = std::make_unique<Tokenizer>(Tokenizer::from_folder(tokenizer_dir(name)));
    return *slot;
}

void encode(benchmark::State& state, const std::string& name) {
    const Tokenizer& tok = tokenizer(name);
    const std::string& text = corpus();
    size_t tokens = 0;
    for (auto _ : state) {
        const auto ids = tok.encode(text, false);
        tokens = ids.size();
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.counters["tokens"] = static_cast<double>(tokens);
}

void encode_texts(benchmark::State& state, const std::string& name) {
    const Tokenizer& tok = tokenizer(name);
    const auto& pieces = corpus_data().pieces;
    size_t bytes = 0;
    for (const auto& p : pieces) bytes += p.size();
    for (auto _ : state) {
        for (const auto& p : pieces) benchmark::DoNotOptimize(tok.encode(p, false).size());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void decode(benchmark::State& state, const std::string& name) {
    const Tokenizer& tok = tokenizer(name);
    const auto ids = tok.encode(corpus(), false);
    for (auto _ : state) benchmark::DoNotOptimize(tok.decode(ids, false).size());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids.size()));
}

void stream(benchmark::State& state, const std::string& name) {
    const Tokenizer& tok = tokenizer(name);
    auto ids = tok.encode(corpus(), false);
    ids.resize(std::min<size_t>(ids.size(), 50000));
    for (auto _ : state) {
        ovllm::tokenizer::IncrementalDetokenizer detok(tok, false);
        size_t bytes = 0;
        for (const int64_t id : ids) bytes += detok.step(id).size();
        benchmark::DoNotOptimize(bytes);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids.size()));
}

void load(benchmark::State& state, const std::string& name) {
    for (auto _ : state)
        benchmark::DoNotOptimize(Tokenizer::from_folder(tokenizer_dir(name)).vocab_size());
}

}  // namespace

BENCHMARK_CAPTURE(encode, smollm2, std::string("smollm2"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, qwen2_5, std::string("qwen2.5"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, gemma3, std::string("gemma3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_texts, smollm2, std::string("smollm2"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_texts, qwen2_5, std::string("qwen2.5"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_texts, gemma3, std::string("gemma3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(decode, smollm2, std::string("smollm2"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(decode, qwen2_5, std::string("qwen2.5"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(decode, gemma3, std::string("gemma3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(stream, qwen2_5, std::string("qwen2.5"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(stream, gemma3, std::string("gemma3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(load, qwen2_5, std::string("qwen2.5"))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(load, gemma3, std::string("gemma3"))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

BENCHMARK_MAIN();
