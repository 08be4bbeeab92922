#pragma once
// What an LLMEngine is made of, built apart from it: the model's step runner, the tokenizer,
// the stop ids and the scheduler's sizes. load_engine_parts() builds them from a model;
// tests build them by hand (a runner with scripted logits, a tokenizer from a few lines of
// tokenizer.json), so the engine's bookkeeping is testable without a model.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/model_config.hpp"
#include "ovllm/config.hpp"
#include "runner/model_runner.hpp"
#include "scheduler/scheduler.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ovllm::engine {

// One model step: the engine's whole view of the model runner.
class StepRunner {
  public:
    virtual ~StepRunner() = default;
    // Logits of the sampled sequences, in input order: [rows, vocab], valid until the next
    // run(); the caller may edit them in place. Throws ovllm::Error for a bad input.
    virtual runner::LogitsView run(const runner::ModelInput& input) = 0;
    virtual int block_size() const = 0;     // tokens per KV block
    virtual size_t num_blocks() const = 0;  // KV blocks the cache holds
    // Time per operation type with profile_ops, largest first; empty otherwise.
    virtual std::vector<runner::OpTime> op_times() const = 0;
};

struct EngineParts {
    model::ModelConfig model_config;  // vocab_size bounds prompt ids and sampling params
    std::unique_ptr<tokenizer::Tokenizer> tokenizer;  // null: token ids in and out only
    std::vector<int64_t> eos_token_ids;               // every id that ends generation
    std::unique_ptr<StepRunner> runner;
    sched::SchedulerConfig scheduler;  // its max_model_len is the engine's
};

// Loads the model and its tokenizer, compiles it and sizes the KV cache. Throws ovllm::Error
// for a bad model, a max_model_len beyond the model's, or a block size the plugin lacks.
EngineParts load_engine_parts(const EngineConfig& config);

}  // namespace ovllm::engine
