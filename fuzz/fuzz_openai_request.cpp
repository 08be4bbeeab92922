// libFuzzer target: random bytes as the body of POST /v1/completions and
// /v1/chat/completions, through the server's path: JSON parsing, field validation, and for a
// valid chat request the chat template (Qwen2.5's, which renders tools). Every rejection must
// be an ApiError (the client's 400) or an ovllm::Error (a template's error, also a 400);
// anything else would be the server's 500 and aborts here.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "server/openai_requests.hpp"
#include "tokenizer/chat_template.hpp"
#include "util/error.hpp"

namespace {

using namespace ovllm::server;
using nlohmann::ordered_json;

const ovllm::ChatTemplate& chat_template() {
    static const ovllm::ChatTemplate loaded = [] {
        const char* env = std::getenv("OVLLM_SHARED_DIR");
        const std::filesystem::path shared = env ? env : OVLLM_SHARED_DIR;
        return ovllm::ChatTemplate::load(shared / "golden" / "tokenizers" / "qwen2.5");
    }();
    return loaded;
}

// As EngineService::apply_chat_template: the request's json values become ordered_json.
void render(const ChatTemplateRequest& chat) {
    ovllm::ChatRenderOptions options;
    options.add_generation_prompt = chat.add_generation_prompt;
    options.continue_final_message = chat.continue_final_message;
    options.tools = ordered_json::parse(chat.tools.dump());
    if (chat.chat_template_kwargs.is_object()) {
        options.chat_template_kwargs = ordered_json::parse(chat.chat_template_kwargs.dump());
    }
    (void)chat_template().render(ordered_json::parse(chat.messages.dump()), options);
}

// Runs one step; a 400 or a template error ends it, as it ends the request in the server.
template <typename Step>
void expect_clean(Step step) {
    try {
        step();
    } catch (const ApiError& error) {
        if (error.status() != 400) std::abort();
        (void)dump_json(error_json(error));  // the reply, whatever bytes the message holds
    } catch (const ovllm::Error& error) {
        (void)dump_json(error_json(bad_request(error.what())));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    json body;
    expect_clean([&] { body = parse_json_body(text); });
    if (!body.is_object()) return 0;

    expect_clean([&] {
        const CompletionRequest request = parse_completion_request(body);
        for (const CompletionPrompt& prompt : request.prompts) {
            if (prompt.is_tokens) check_token_ids(prompt.token_ids, 49152);
            const auto prompt_len =
                static_cast<int>(prompt.is_tokens ? prompt.token_ids.size() : prompt.text.size());
            (void)resolve_max_tokens(request.params.max_tokens, prompt_len, 8192);
        }
    });
    expect_clean([&] {
        const ChatRequest request = parse_chat_request(body);
        render(request.chat);
    });
    return 0;
}
