#include "ovllm/llm.hpp"

#include <unordered_map>

#include "engine/llm_engine.hpp"
#include "tokenizer/chat_template.hpp"
#include "util/error.hpp"

namespace ovllm {

LLM::LLM(EngineConfig config) : engine_(std::make_unique<engine::LLMEngine>(std::move(config))) {}

LLM::LLM(std::unique_ptr<engine::LLMEngine> engine) : engine_(std::move(engine)) {}

LLM::~LLM() = default;

std::vector<RequestOutput> LLM::generate(const std::vector<std::string>& prompts,
                                         const SamplingParams& params,
                                         const OutputCallback& on_output) {
    std::vector<Prompt> batch;
    for (const std::string& text : prompts) batch.push_back({text, {}});
    return run(std::move(batch), params, on_output);
}

std::vector<RequestOutput> LLM::generate(const std::vector<std::vector<int64_t>>& prompt_token_ids,
                                         const SamplingParams& params,
                                         const OutputCallback& on_output) {
    std::vector<Prompt> batch;
    for (const auto& ids : prompt_token_ids) batch.push_back({{}, ids});
    return run(std::move(batch), params, on_output);
}

std::string LLM::apply_chat_template(const std::vector<ChatMessage>& messages,
                                     bool add_generation_prompt) const {
    const ChatTemplate chat_template =
        ChatTemplate::load(engine_->config().tokenizer.empty() ? engine_->config().model
                                                               : engine_->config().tokenizer);
    nlohmann::ordered_json json_messages = nlohmann::ordered_json::array();
    for (const ChatMessage& m : messages)
        json_messages.push_back({{"role", m.role}, {"content", m.content}});
    ChatRenderOptions options;
    options.add_generation_prompt = add_generation_prompt;
    return chat_template.render(json_messages, options);
}

std::vector<RequestOutput> LLM::chat(const std::vector<std::vector<ChatMessage>>& conversations,
                                     const SamplingParams& params,
                                     const OutputCallback& on_output) {
    std::vector<Prompt> batch;
    for (const auto& messages : conversations) {
        // The template already holds the special tokens; encode() must not add a BOS again.
        const std::string text = apply_chat_template(messages, true);
        const tokenizer::Tokenizer* tok = engine_->tokenizer();
        if (!tok) throw_error("{} has no tokenizer", engine_->config().model);
        batch.push_back({text, tok->encode(text, /*add_special_tokens=*/false)});
    }
    return run(std::move(batch), params, on_output);
}

std::vector<RequestOutput> LLM::run(std::vector<Prompt> prompts, const SamplingParams& params,
                                    const OutputCallback& on_output) {
    std::unordered_map<std::string, size_t> slot_of;
    std::vector<std::string> ids;
    try {
        for (Prompt& prompt : prompts) {
            std::string id = std::to_string(next_request_++);
            engine_->add_request(id, {std::move(prompt.text), std::move(prompt.token_ids)}, params);
            slot_of.emplace(id, ids.size());
            ids.push_back(std::move(id));
        }
    } catch (...) {
        for (const std::string& id : ids) engine_->abort_request(id);
        throw;
    }
    std::vector<RequestOutput> results(ids.size());
    size_t remaining = ids.size();
    while (remaining > 0 && engine_->has_unfinished_requests()) {
        for (RequestOutput& out : engine_->step()) {
            // The engine's outputs are incremental; a cumulative callback sees the fold.
            const bool cumulative = params.output_kind == OutputKind::cumulative;
            if (on_output && !cumulative) on_output(out);
            RequestOutput& total = results[slot_of.at(out.request_id)];
            engine::accumulate(total, std::move(out));
            if (on_output && cumulative) on_output(total);
            if (total.finished) --remaining;
        }
    }
    return results;
}

}  // namespace ovllm
