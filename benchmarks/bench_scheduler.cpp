// Scheduler bookkeeping cost per engine step (no model): schedule() plus feeding back the
// sampled tokens. Time per iteration is one step.
#include <benchmark/benchmark.h>

#include <numeric>
#include <utility>
#include <vector>

#include "scheduler/scheduler.hpp"

namespace {

using ovllm::sched::Scheduler;
using ovllm::sched::SchedulerConfig;
using ovllm::sched::SchedulerOutput;
using ovllm::sched::SeqId;
using ovllm::sched::SequenceSpec;
using ovllm::sched::TokenId;
using Sampled = std::vector<std::pair<SeqId, TokenId>>;

constexpr int kDecodeSeqs = 256;
constexpr int kPromptLen = 128;
constexpr int kSteps = 2000;  // fixed, so every run grows the sequences by the same amount

SchedulerConfig bench_config(int budget, bool prefix_caching) {
    SchedulerConfig config;
    config.block_size = 32;
    config.num_blocks = 48 * 1024;
    config.max_num_seqs = 512;
    config.max_num_batched_tokens = budget;
    config.max_model_len = 4096;
    config.enable_prefix_caching = prefix_caching;
    return config;
}

SequenceSpec make_spec(SeqId id, int prompt_len) {
    SequenceSpec spec;
    spec.seq_id = id;
    spec.group_id = id;
    spec.prompt_token_ids.resize(static_cast<size_t>(prompt_len));
    std::iota(spec.prompt_token_ids.begin(), spec.prompt_token_ids.end(),
              static_cast<TokenId>(id * 100003));
    return spec;
}

// Feeds back one token per sampling entry; returns the entries' ids that sampled.
void sample(Scheduler& scheduler, const SchedulerOutput& out, Sampled& sampled) {
    sampled.clear();
    for (const auto& s : out.sequences) {
        if (s.sample) {
            sampled.emplace_back(s.seq_id, static_cast<TokenId>(s.past_len));
        }
    }
    scheduler.update(sampled);
}

// 256 sequences with 128-token prompts, prefilled, then decode steps of one token each.
void prefill_decoders(Scheduler& scheduler, Sampled& sampled) {
    for (SeqId id = 1; id <= kDecodeSeqs; ++id) {
        scheduler.add_sequence(make_spec(id, kPromptLen));
    }
    while (scheduler.num_waiting() > 0 || scheduler.num_computed_tokens(kDecodeSeqs) < kPromptLen) {
        sample(scheduler, scheduler.schedule(), sampled);
    }
}

void BM_DecodeStep(benchmark::State& state) {
    Scheduler scheduler(bench_config(8192, state.range(0) != 0));
    Sampled sampled;
    sampled.reserve(1024);
    prefill_decoders(scheduler, sampled);
    for (auto _ : state) {
        const SchedulerOutput& out = scheduler.schedule();
        benchmark::DoNotOptimize(out.num_scheduled_tokens);
        sample(scheduler, out, sampled);
    }
    state.counters["seqs_per_step"] = static_cast<double>(scheduler.num_running());
    state.counters["kv_usage"] = scheduler.kv_stats().usage;
}
BENCHMARK(BM_DecodeStep)
    ->ArgName("prefix_caching")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(kSteps)
    ->Unit(benchmark::kMicrosecond);

// 256 decoders plus one new 1024-token prompt per step, chunked into the rest of a
// 2048-token budget (1792 prefill tokens a step); a prompt finishes after its first token.
void BM_MixedPrefillStep(benchmark::State& state) {
    Scheduler scheduler(bench_config(2048, state.range(0) != 0));
    Sampled sampled;
    sampled.reserve(1024);
    prefill_decoders(scheduler, sampled);
    SeqId next_id = kDecodeSeqs + 1;
    for (auto _ : state) {
        scheduler.add_sequence(make_spec(next_id++, 1024));
        const SchedulerOutput& out = scheduler.schedule();
        benchmark::DoNotOptimize(out.num_scheduled_tokens);
        sample(scheduler, out, sampled);
        for (const auto& [seq, token] : sampled) {
            if (seq > kDecodeSeqs) {
                scheduler.finish(seq);
            }
        }
    }
    state.counters["waiting"] = static_cast<double>(scheduler.num_waiting());
}
BENCHMARK(BM_MixedPrefillStep)
    ->ArgName("prefix_caching")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(kSteps)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
