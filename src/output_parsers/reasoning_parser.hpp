#pragma once
// Reasoning parsers (vLLM's --reasoning-parser): split a thinking model's output into the
// reasoning (`<think>...</think>`) and the answer (`content`).
//   qwen3        reasoning when the output opens with `<think>` (or the prompt did:
//                `prompt_opened_think`), up to `</think>`; the rest is content. An output
//                that does not open thinking is all content (thinking was off).
//   deepseek_r1  the template opens `<think>` in the prompt: until `</think>` everything is
//                reasoning; an optional leading `<think>` is dropped.
// Without `</think>` the output was cut off while thinking: all of it is reasoning.
// Streaming: feed() takes each text delta and returns the delta's reasoning and content
// parts; a partial tag at the end of a delta is held back until the next one decides it.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ovllm::parsers {

struct ReasoningSplit {
    std::optional<std::string> reasoning;  // nullopt: none
    std::optional<std::string> content;    // nullopt: none (vLLM sends null)
};

class ReasoningParser {
  public:
    // Throws ovllm::Error naming the known parsers for an unknown name.
    // `prompt_opened_think`: the rendered prompt ends inside `<think>` (Qwen3 "thinking"
    // templates that open it for the model).
    static std::unique_ptr<ReasoningParser> create(std::string_view name,
                                                   bool prompt_opened_think = false);

    // The whole output at once.
    ReasoningSplit split(std::string_view text) const;

    // Streaming: one delta in, its parts out. finish() flushes a held-back partial tag.
    ReasoningSplit feed(std::string_view delta);
    ReasoningSplit finish();

  private:
    enum class Mode { undecided, reasoning, content };
    explicit ReasoningParser(bool starts_in_reasoning);
    ReasoningSplit drain(bool at_end);

    bool starts_in_reasoning_;  // deepseek_r1: the prompt opened <think>
    Mode mode_;
    bool at_start_;        // deepseek_r1: nothing seen yet, a leading <think> is dropped
    std::string pending_;  // text not yet assigned: may hold the start of a tag
};

}  // namespace ovllm::parsers
