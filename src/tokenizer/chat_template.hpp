#pragma once
// A model's chat template, rendered as transformers' apply_chat_template(tokenize=False) does.
//
//   auto tmpl = ovllm::ChatTemplate::load(".models/qwen2.5-coder-0.5b");
//   ovllm::ChatRenderOptions options;
//   options.add_generation_prompt = true;
//   std::string prompt = tmpl.render(messages, options);
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jinja/jinja.hpp"

namespace ovllm {

// Special-token strings a template can use as bos_token, eos_token, unk_token, pad_token and
// additional_special_tokens. An absent token is undefined in the template.
struct ChatSpecialTokens {
    std::optional<std::string> bos_token;
    std::optional<std::string> eos_token;
    std::optional<std::string> unk_token;
    std::optional<std::string> pad_token;
    std::vector<std::string> additional_special_tokens;
};

struct ChatRenderOptions {
    bool add_generation_prompt = false;
    // Assistant prefill: the output ends with the last message's text, left open.
    bool continue_final_message = false;
    nlohmann::ordered_json tools = nullptr;      // list of tool schemas, or null for none
    nlohmann::ordered_json documents = nullptr;  // list of documents, or null
    // Extra template variables (vLLM's chat_template_kwargs); they override the ones above.
    nlohmann::ordered_json chat_template_kwargs = nlohmann::ordered_json::object();
};

class ChatTemplate {
  public:
    // Reads `folder`/chat_template.jinja, else tokenizer_config.json's "chat_template" (a string,
    // or a list of {name, template}: "default", and "tool_use" when tools are given), and the
    // special tokens from tokenizer_config.json. A folder without a template loads fine:
    // has_template() is false and render() throws "<folder> has no chat template".
    static ChatTemplate load(const std::filesystem::path& folder);

    // A template given as text (tests, --chat-template files). `name` prefixes errors.
    static ChatTemplate from_string(const std::string& template_text, ChatSpecialTokens tokens = {},
                                    std::string name = "chat template");

    bool has_template() const { return default_.has_value(); }
    const ChatSpecialTokens& special_tokens() const { return tokens_; }

    // `messages` is a JSON list of message objects ({"role", "content", ...}).
    // Throws ovllm::Error on template errors (with "<name>:<line>:<column>: ") and with the
    // template's own message when it calls raise_exception.
    std::string render(const nlohmann::ordered_json& messages,
                       const ChatRenderOptions& options) const;

  private:
    std::optional<jinja::Template> default_;
    std::optional<jinja::Template> tool_use_;
    ChatSpecialTokens tokens_;
    std::string origin_;  // folder or name, for messages
};

}  // namespace ovllm
