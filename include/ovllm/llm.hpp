#pragma once
// The offline API, as vLLM's `LLM` class:
//
//   ovllm::EngineConfig config;
//   config.model = "/models/smollm2-135m";
//   ovllm::LLM llm(config);
//   ovllm::SamplingParams params;
//   params.temperature = 0.0f;
//   params.max_tokens = 32;
//   for (const auto& out : llm.generate({"The capital of France is"}, params))
//       std::cout << out.outputs[0].text << "\n";
//
// generate() adds every prompt to the engine, steps it until all are done and returns one
// RequestOutput per prompt, in prompt order. The optional callback sees every intermediate
// output (cumulative or delta, per SamplingParams::output_kind). The engine underneath
// produces only deltas; generate() folds them, so a cumulative stream costs O(length), not
// O(length^2).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ovllm/config.hpp"
#include "ovllm/outputs.hpp"
#include "ovllm/sampling_params.hpp"

namespace ovllm {

namespace engine {
class LLMEngine;
}

struct ChatMessage {
    std::string role;  // "system", "user", "assistant", ...
    std::string content;
};

using OutputCallback = std::function<void(const RequestOutput&)>;

class LLM {
  public:
    explicit LLM(EngineConfig config);
    // Over an engine built elsewhere (e.g. from engine::EngineParts).
    explicit LLM(std::unique_ptr<engine::LLMEngine> engine);
    ~LLM();
    LLM(const LLM&) = delete;
    LLM& operator=(const LLM&) = delete;

    std::vector<RequestOutput> generate(const std::vector<std::string>& prompts,
                                        const SamplingParams& params = {},
                                        const OutputCallback& on_output = {});
    std::vector<RequestOutput> generate(const std::vector<std::vector<int64_t>>& prompt_token_ids,
                                        const SamplingParams& params = {},
                                        const OutputCallback& on_output = {});
    // Renders each conversation with the model's chat template, then generates.
    std::vector<RequestOutput> chat(const std::vector<std::vector<ChatMessage>>& conversations,
                                    const SamplingParams& params = {},
                                    const OutputCallback& on_output = {});
    // Renders one conversation to the prompt text the model sees.
    std::string apply_chat_template(const std::vector<ChatMessage>& messages,
                                    bool add_generation_prompt = true) const;

    // The engine underneath: add_request / step / abort.
    engine::LLMEngine& engine() { return *engine_; }

  private:
    struct Prompt {
        std::string text;
        std::vector<int64_t> token_ids;
    };
    std::vector<RequestOutput> run(std::vector<Prompt> prompts, const SamplingParams& params,
                                   const OutputCallback& on_output);

    std::unique_ptr<engine::LLMEngine> engine_;
    uint64_t next_request_ = 0;
};

}  // namespace ovllm
