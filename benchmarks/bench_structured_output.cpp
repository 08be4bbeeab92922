// Structured output cost on Qwen2.5-Coder-0.5B (.models/qwen2.5-coder-0.5b):
//   BM_CompileSchema      a schema compiled (a new text each iteration): two fields / typical /
//                         typical with an email field; ms, wall and process CPU
//   BM_CompileFirstSchema the same, on a fresh compiler (no rule's token masks cached yet)
//   BM_CompileCacheHit    the same schema again, served from the cache
//   BM_GrammarStep        the sampler's grammar work for 64 rows walking a valid document
//                         (masks over the 151936-wide logits + token acceptance), no model
//   BM_Engine64Json       64 concurrent JSON-schema requests through the engine: grammar
//                         share of a step (the step-time line is logged too)
//   BM_FirstToken         add_request -> first token, without a schema / with a new schema /
//                         with a cached one
// Needs the model folder (scripts/test.sh fetches it); skips otherwise.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/report.hpp"
#include "engine/llm_engine.hpp"
#include "ovllm/llm.hpp"
#include "sampling/sampler.hpp"
#include "structured_output/grammar_compiler.hpp"
#include "test_paths.hpp"
#include "tokenizer/generation_config.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/log.hpp"

namespace {

using namespace ovllm;
namespace fs = std::filesystem;

fs::path qwen_dir() {
    return test::models_dir() / "qwen2.5-coder-0.5b";
}

// A schema of the usual shape: nested object, array with bounds, enum, optional field.
// `title` makes each schema text new (a cache miss) without changing the grammar.
std::string typical_schema(const std::string& title) {
    nlohmann::ordered_json schema = nlohmann::ordered_json::parse(R"({
      "type": "object",
      "properties": {
        "name": {"type": "string", "maxLength": 40},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "format": "email"},
        "role": {"enum": ["admin", "user", "guest"]},
        "address": {"type": "object",
                    "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                    "required": ["city", "zip"]},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 5}
      },
      "required": ["name", "age", "role", "address", "tags"]
    })");
    schema["title"] = title;
    return schema.dump();
}

const char* kDocument =
    R"({"name": "Ada Lovelace", "age": 36, "role": "admin", "address": {"city": "London", "zip": "12345"}, "tags": ["math", "poetry"]})";

struct Vocab {
    std::unique_ptr<tokenizer::Tokenizer> tok;
    structured::GrammarVocabulary vocab;
    size_t width = 0;
};

const Vocab* qwen_vocab() {
    static const std::unique_ptr<Vocab> vocab = []() -> std::unique_ptr<Vocab> {
        if (!fs::exists(qwen_dir() / "tokenizer.json")) return nullptr;
        auto v = std::make_unique<Vocab>();
        v->tok =
            std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::from_folder(qwen_dir()));
        std::ifstream config(qwen_dir() / "config.json");
        v->width = nlohmann::json::parse(config).at("vocab_size").get<size_t>();
        const auto defaults = tokenizer::load_generation_defaults(qwen_dir(), v->tok.get());
        v->vocab = structured::vocabulary_from_tokenizer(
            *v->tok, qwen_dir() / "tokenizer.json", v->width,
            {defaults.eos_token_ids.begin(), defaults.eos_token_ids.end()});
        return v;
    }();
    return vocab.get();
}

int threads() {
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

structured::GrammarCompiler* shared_compiler() {
    static const std::unique_ptr<structured::GrammarCompiler> compiler =
        qwen_vocab() ? std::make_unique<structured::GrammarCompiler>(qwen_vocab()->vocab, threads())
                     : nullptr;
    return compiler.get();
}

StructuredOutputs json_form(std::string schema) {
    StructuredOutputs so;
    so.json = std::move(schema);
    return so;
}

// 0: two fields (a string, a bounded integer); 1: the typical schema without its email field;
// 2: the typical schema (email's grammar is the largest of the formats).
std::string schema_of_kind(int64_t kind, const std::string& title) {
    nlohmann::ordered_json schema = nlohmann::ordered_json::parse(typical_schema(title));
    if (kind == 0) {
        schema["properties"] = {{"name", schema["properties"]["name"]},
                                {"age", schema["properties"]["age"]}};
        schema["required"] = {"name", "age"};
    }
    if (kind <= 1) schema["properties"].erase("email");
    return schema.dump();
}

void BM_CompileSchema(benchmark::State& state) {
    if (!shared_compiler()) return state.SkipWithError("no Qwen2.5-Coder-0.5B folder");
    // Each iteration's schema is new in structure too (a property named after the iteration),
    // while its leaf rules (strings, bounded integers) were seen before, as on a server that
    // has served other schemas.
    shared_compiler()->compile(json_form(schema_of_kind(state.range(0), "warm-up")));
    int64_t n = 0;
    for (auto _ : state) {
        state.PauseTiming();
        nlohmann::ordered_json schema =
            nlohmann::ordered_json::parse(schema_of_kind(state.range(0), fmt::format("T{}", n)));
        schema["properties"][fmt::format("field_{}", n++)] = {{"type", "string"}};
        state.ResumeTiming();
        benchmark::DoNotOptimize(shared_compiler()->compile(json_form(schema.dump())));
    }
}
// Process CPU time: xgrammar compiles on its own threads.
BENCHMARK(BM_CompileSchema)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// The first schema a server compiles: no rule of it is cached yet.
void BM_CompileFirstSchema(benchmark::State& state) {
    if (!qwen_vocab()) return state.SkipWithError("no Qwen2.5-Coder-0.5B folder");
    std::vector<std::unique_ptr<structured::GrammarCompiler>> fresh;  // one per iteration
    for (int i = 0; i < 2; ++i)
        fresh.push_back(
            std::make_unique<structured::GrammarCompiler>(qwen_vocab()->vocab, threads()));
    size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(
            fresh.at(i++)->compile(json_form(schema_of_kind(state.range(0), "first"))));
}
BENCHMARK(BM_CompileFirstSchema)
    ->Arg(0)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

void BM_CompileCacheHit(benchmark::State& state) {
    if (!shared_compiler()) return state.SkipWithError("no Qwen2.5-Coder-0.5B folder");
    const StructuredOutputs so = json_form(typical_schema("cached"));
    shared_compiler()->compile(so);
    const uint64_t hits_before = shared_compiler()->stats().cache_hits;
    for (auto _ : state) benchmark::DoNotOptimize(shared_compiler()->compile(so));
    state.counters["hits"] =
        static_cast<double>(shared_compiler()->stats().cache_hits - hits_before);
}
BENCHMARK(BM_CompileCacheHit)->Unit(benchmark::kMicrosecond);

// Grammar work of one sampler step for `rows` sequences: every row's mask, then acceptance.
// The "model" puts the document's next token on top so the walk stays inside the grammar.
void BM_GrammarStep(benchmark::State& state) {
    if (!shared_compiler()) return state.SkipWithError("no Qwen2.5-Coder-0.5B folder");
    const size_t rows = static_cast<size_t>(state.range(0));
    const size_t width = qwen_vocab()->width;
    const auto compiled = shared_compiler()->compile(json_form(typical_schema("step")));
    std::vector<int64_t> doc = qwen_vocab()->tok->encode(kDocument, false);
    doc.push_back(*qwen_vocab()->vocab.stop_token_ids.begin());
    sampling::Sampler sampler(0, static_cast<size_t>(threads()));
    SamplingParams params;
    params.temperature = 0.0f;
    std::vector<std::unique_ptr<structured::SequenceGrammar>> grammars;
    std::vector<sampling::SamplerRow> inputs(rows);
    std::vector<float> logits(rows * width);
    sampling::SamplerOutput out;
    size_t position = doc.size();
    double grammar_seconds = 0.0, sampler_seconds = 0.0;
    for (auto _ : state) {
        state.PauseTiming();
        if (position == doc.size()) {  // start the walk over
            grammars.clear();
            for (size_t r = 0; r < rows; ++r) {
                grammars.push_back(std::make_unique<structured::SequenceGrammar>(compiled));
                inputs[r].params = &params;
                inputs[r].grammar = grammars.back().get();
            }
            position = 0;
        }
        std::fill(logits.begin(), logits.end(), 0.0f);
        for (size_t r = 0; r < rows; ++r)
            logits[r * width + static_cast<size_t>(doc[position])] = 10.0f;
        state.ResumeTiming();
        const auto start = std::chrono::steady_clock::now();
        sampler.sample(logits, width, inputs, out);
        sampler_seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        grammar_seconds += sampler.last_grammar_seconds();
        if (out.rows[0].token_id != doc[position])
            return state.SkipWithError("walk left the document");
        ++position;
    }
    state.counters["grammar_ms"] =
        benchmark::Counter(1e3 * grammar_seconds / double(state.iterations()));
    state.counters["sampler_ms"] =
        benchmark::Counter(1e3 * sampler_seconds / double(state.iterations()));
}
BENCHMARK(BM_GrammarStep)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond)->Iterations(60);

engine::LLMEngine* shared_engine() {
    static const std::unique_ptr<LLM> llm = []() -> std::unique_ptr<LLM> {
        if (!fs::exists(qwen_dir() / "config.json")) return nullptr;
        EngineConfig config;
        config.model = qwen_dir().string();
        config.max_model_len = 1024;
        config.kv_cache_space_gb = 1.0;
        return std::make_unique<LLM>(config);
    }();
    return llm ? &llm->engine() : nullptr;
}

std::string chat(const std::string& text) {
    return "<|im_start|>user\n" + text + "<|im_end|>\n<|im_start|>assistant\n";
}

void BM_Engine64Json(benchmark::State& state) {
    engine::LLMEngine* engine = shared_engine();
    if (!engine) return state.SkipWithError("no Qwen2.5-Coder-0.5B folder");
    std::ifstream file(test::source_dir() / "tests/structured_output/schemas.json");
    const nlohmann::ordered_json cases = nlohmann::ordered_json::parse(file);
    for (auto _ : state) {
        const engine::EngineStats before = engine->stats();
        for (int i = 0; i < 64; ++i) {
            const nlohmann::ordered_json& c = cases[static_cast<size_t>(i) % cases.size()];
            SamplingParams params;
            params.temperature = 0.0f;
            params.max_tokens = 200;
            params.structured_outputs = json_form(c.at("schema").dump());
            engine->add_request(fmt::format("r{}", i),
                                {chat(fmt::format("Reply with JSON only: {} (case {}).",
                                                  c.at("task").get<std::string>(), i)),
                                 {}},
                                params);
        }
        while (engine->has_unfinished_requests()) engine->step();
        engine::EngineStats stats = engine->stats();
        engine::StepTimes& t = stats.step_times;
        t.schedule -= before.step_times.schedule;
        t.model -= before.step_times.model;
        t.sample -= before.step_times.sample;
        t.grammar -= before.step_times.grammar;
        t.outputs -= before.step_times.outputs;
        stats.num_steps -= before.num_steps;
        OVLLM_INFO("{}", bench::format_step_times(stats));
        state.counters["grammar_pct"] = 100.0 * t.grammar / t.total();
        state.counters["ms_per_step"] = 1e3 * t.total() / double(stats.num_steps);
        state.counters["steps"] = static_cast<double>(stats.num_steps);
    }
}
BENCHMARK(BM_Engine64Json)->Unit(benchmark::kSecond)->Iterations(1);

// 0: no schema, 1: a schema never seen (compiled on arrival), 2: the same schema again.
void BM_FirstToken(benchmark::State& state) {
    engine::LLMEngine* engine = shared_engine();
    if (!engine) return state.SkipWithError("no Qwen2.5-Coder-0.5B folder");
    const int64_t mode = state.range(0);
    if (mode == 2) engine->grammar_compiler().compile(json_form(typical_schema("first-cached")));
    int64_t n = 0;
    for (auto _ : state) {
        SamplingParams params;
        params.temperature = 0.0f;
        params.max_tokens = 1;
        if (mode == 1)
            params.structured_outputs = json_form(typical_schema(fmt::format("first{}", n)));
        if (mode == 2) params.structured_outputs = json_form(typical_schema("first-cached"));
        engine->add_request(fmt::format("ft{}-{}", mode, n++),
                            {chat("Describe Ada Lovelace as JSON."), {}}, params);
        while (engine->has_unfinished_requests()) engine->step();
    }
}
BENCHMARK(BM_FirstToken)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
