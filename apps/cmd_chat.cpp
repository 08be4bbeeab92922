// `ovllm chat --model DIR`: an interactive chat in the terminal. Each line typed is a user
// turn; the reply streams as it is generated and joins the history. `/exit` (or end of
// input) quits, `/clear` starts over. Sampling: the flags given, else the model's
// generation_config.json defaults, else greedy.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "hub_models.hpp"
#include "model_argument.hpp"
#include "ovllm/llm.hpp"
#include "tokenizer/generation_config.hpp"
#include "util/cli_flags.hpp"

namespace ovllm::cli {
namespace {

struct ChatOptions {
    ModelArgument model;
    EngineConfig engine;
    config::FlagTracker tracker;
    SamplingParams sampling;
    std::string system_prompt;
    int max_tokens = 512;
    CLI::Option* temperature = nullptr;
    CLI::Option* top_p = nullptr;
    CLI::Option* top_k = nullptr;
};

// Fills the sampling fields the user left unset from generation_config.json; greedy when
// the model names no temperature.
void apply_generation_defaults(ChatOptions& o) {
    const tokenizer::GenerationDefaults defaults =
        tokenizer::load_generation_defaults(o.engine.model);
    if (o.temperature->count() == 0)
        o.sampling.temperature = defaults.temperature ? float(*defaults.temperature) : 0.0f;
    if (o.top_p->count() == 0 && defaults.top_p) o.sampling.top_p = float(*defaults.top_p);
    if (o.top_k->count() == 0 && defaults.top_k) o.sampling.top_k = int(*defaults.top_k);
    if (defaults.repetition_penalty)
        o.sampling.repetition_penalty = float(*defaults.repetition_penalty);
}

int run_chat(ChatOptions& o) {
    o.engine.model = o.model.resolve(o.engine.model, "chat");
    config::log_notes(
        config::resolve_engine_config(o.engine, o.tracker, config::process_environment()));
    resolve_hub_models(o.engine, o.tracker.hub);
    apply_generation_defaults(o);
    o.sampling.max_tokens = o.max_tokens;
    o.sampling.output_kind = OutputKind::delta;
    o.sampling.validate();

    LLM llm(o.engine);
    std::vector<ChatMessage> history;
    if (!o.system_prompt.empty()) history.push_back({"system", o.system_prompt});
    std::string line;
    while (true) {
        std::fputs("> ", stdout);
        std::fflush(stdout);
        if (!std::getline(std::cin, line) || line == "/exit") break;
        if (line == "/clear") {
            history.resize(o.system_prompt.empty() ? 0 : 1);
            continue;
        }
        if (line.empty()) continue;
        history.push_back({"user", line});
        const auto print_delta = [](const RequestOutput& out) {
            for (const CompletionOutput& c : out.outputs) std::fputs(c.text.c_str(), stdout);
            std::fflush(stdout);
        };
        const std::vector<RequestOutput> reply = llm.chat({history}, o.sampling, print_delta);
        std::fputs("\n", stdout);
        history.push_back({"assistant", reply.at(0).outputs.at(0).text});
    }
    std::fputs("\n", stdout);
    return 0;
}

}  // namespace

Command add_chat_command(CLI::App& app) {
    auto o = std::make_shared<ChatOptions>();
    CLI::App* cmd = app.add_subcommand("chat", "Chat with a model in the terminal");
    o->model.add_positional(*cmd, "Model folder, IR folder, .gguf file or built-in name");
    config::add_engine_flags(*cmd, o->engine, o->tracker);
    config::add_value_flag(*cmd, "system-prompt", o->system_prompt, "A system message first");
    config::add_value_flag(*cmd, "max-tokens", o->max_tokens, "Longest reply in tokens");
    o->temperature =
        config::add_value_flag(*cmd, "temperature", o->sampling.temperature, "0 = greedy");
    o->top_p = config::add_value_flag(*cmd, "top-p", o->sampling.top_p, "Nucleus mass in (0, 1]");
    o->top_k = config::add_value_flag(*cmd, "top-k", o->sampling.top_k, "Keep the k most likely");
    return [o] { return run_chat(*o); };
}

}  // namespace ovllm::cli
