// Chat template rendering speed on golden qwen2.5 cases (tools in the system prompt, tool calls,
// tool responses). Reports time per render of one conversation.
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "test_paths.hpp"
#include "tokenizer/chat_template.hpp"

namespace {

using json = nlohmann::ordered_json;

json golden_case(const std::string& model, const std::string& id) {
    std::ifstream in(ovllm::test::golden_dir() / "chat" / (model + ".jsonl"));
    std::string line;
    while (std::getline(in, line)) {
        json c = json::parse(line);
        if (c["id"] == id) return c;
    }
    return nullptr;
}

void render_case(benchmark::State& state, const std::string& model, const std::string& id) {
    const ovllm::ChatTemplate tmpl =
        ovllm::ChatTemplate::load(ovllm::test::golden_dir() / "tokenizers" / model);
    const json c = golden_case(model, id);
    if (c.is_null()) {
        state.SkipWithError("golden case not found");
        return;
    }
    ovllm::ChatRenderOptions options;
    options.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    options.continue_final_message = c["continue_final_message"].get<bool>();
    if (c.contains("tools")) options.tools = c["tools"];
    size_t bytes = 0;
    for (auto _ : state) {
        const std::string out = tmpl.render(c["messages"], options);
        bytes += out.size();
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_Qwen25ToolsCallAndResponse(benchmark::State& state) {
    render_case(state, "qwen2.5", "tools_call_and_response");
}
void BM_Qwen25ToolsParallelCalls(benchmark::State& state) {
    render_case(state, "qwen2.5", "tools_parallel_calls");
}
void BM_SmolLM2ManyTurns(benchmark::State& state) {
    render_case(state, "smollm2", "many_turns");
}

void BM_ParseQwen25Template(benchmark::State& state) {
    for (auto _ : state) {
        auto tmpl = ovllm::ChatTemplate::load(ovllm::test::golden_dir() / "tokenizers" / "qwen2.5");
        benchmark::DoNotOptimize(tmpl.has_template());
    }
}

BENCHMARK(BM_Qwen25ToolsCallAndResponse)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Qwen25ToolsParallelCalls)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SmolLM2ManyTurns)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ParseQwen25Template)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
