// What KV cache events add to an engine step's bookkeeping: the scheduler with prefix
// caching, 64 decoding sequences plus one new 1024-token prompt per step (32 blocks stored,
// and once the cache is full as many evicted), with events off, recorded only, and recorded
// then handed to a ZeroMQ publisher (its thread encodes and sends). Time per iteration is
// one step; the difference between the rows is the events' cost on the engine thread.
#include <benchmark/benchmark.h>

#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include "scheduler/scheduler.hpp"
#include "server/kv_events_publisher.hpp"

namespace {

using namespace ovllm;
using sched::Scheduler;
using sched::SeqId;
using sched::TokenId;

enum Mode { kOff = 0, kRecord = 1, kPublish = 2 };

sched::SequenceSpec make_spec(SeqId id, int prompt_len) {
    sched::SequenceSpec spec;
    spec.seq_id = id;
    spec.group_id = id;
    spec.prompt_token_ids.resize(static_cast<size_t>(prompt_len));
    std::iota(spec.prompt_token_ids.begin(), spec.prompt_token_ids.end(),
              static_cast<TokenId>(id * 100003));
    return spec;
}

void BM_StepWithKVEvents(benchmark::State& state) {
    const auto mode = static_cast<Mode>(state.range(0));
    sched::SchedulerConfig config;
    config.block_size = 32;
    config.num_blocks = 4096;  // fills after ~120 prompts: later steps evict as they store
    config.max_num_seqs = 512;
    config.max_num_batched_tokens = 2048;
    config.max_model_len = 4096;
    config.enable_prefix_caching = true;
    Scheduler scheduler(config);
    std::unique_ptr<server::KVEventsPublisher> publisher;
    if (mode != kOff) scheduler.record_kv_events(true);
    if (mode == kPublish) {
        KVEventsConfig events;
        events.enable_kv_cache_events = true;
        events.endpoint = "tcp://127.0.0.1:*";  // any free port; no subscriber needed
        publisher = std::make_unique<server::KVEventsPublisher>(events);
    }
    std::vector<std::pair<SeqId, TokenId>> sampled;
    SeqId next_id = 1;
    for (; next_id <= 64; ++next_id) scheduler.add_sequence(make_spec(next_id, 128));
    uint64_t events = 0;
    for (auto _ : state) {
        scheduler.add_sequence(make_spec(next_id++, 1024));
        const sched::SchedulerOutput& out = scheduler.schedule();
        sampled.clear();
        for (const auto& s : out.sequences) {
            if (s.sample) sampled.emplace_back(s.seq_id, static_cast<TokenId>(s.past_len));
        }
        scheduler.update(sampled);
        for (const auto& [seq, token] : sampled) {
            if (seq > 64) scheduler.finish(seq);
        }
        if (mode != kOff) {
            std::vector<kv::KVCacheEvent> taken = scheduler.take_kv_events();
            events += taken.size();
            if (publisher) publisher->publish(std::move(taken));
        }
    }
    state.counters["events_per_step"] =
        static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_StepWithKVEvents)
    ->ArgName("off0_record1_publish2")
    ->Arg(kOff)
    ->Arg(kRecord)
    ->Arg(kPublish)
    ->Iterations(2000)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
