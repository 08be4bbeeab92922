#include "tokenizer/chat_template.hpp"

#include "util/error.hpp"
#include "util/file.hpp"

namespace ovllm {
namespace {

// transformers appends this to the final message, renders, and cuts the text at it.
constexpr std::string_view kContinueTag = "CONTINUE_FINAL_MESSAGE_TAG ";

// A special token is a string or an AddedToken object {"content": ...}; null means absent.
std::optional<std::string> token_string(const nlohmann::ordered_json& config, const char* key,
                                        const std::filesystem::path& path) {
    const auto it = config.find(key);
    if (it == config.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
        return (*it)["content"].get<std::string>();
    }
    throw_error("{}: field '{}' must be a string or an object with 'content'", path.string(), key);
}

ChatSpecialTokens read_special_tokens(const nlohmann::ordered_json& config,
                                      const std::filesystem::path& path) {
    ChatSpecialTokens tokens;
    tokens.bos_token = token_string(config, "bos_token", path);
    tokens.eos_token = token_string(config, "eos_token", path);
    tokens.unk_token = token_string(config, "unk_token", path);
    tokens.pad_token = token_string(config, "pad_token", path);
    const auto extra = config.find("additional_special_tokens");
    if (extra != config.end() && extra->is_array()) {
        for (const auto& item : *extra) {
            if (item.is_string())
                tokens.additional_special_tokens.push_back(item.get<std::string>());
            else if (item.is_object() && item.contains("content") && item["content"].is_string()) {
                tokens.additional_special_tokens.push_back(item["content"].get<std::string>());
            }
        }
    }
    return tokens;
}

// Marks the end of the final message so the rendered text can be cut right after it.
nlohmann::ordered_json mark_final_message(const nlohmann::ordered_json& messages) {
    if (!messages.is_array() || messages.empty()) {
        throw_error("continue_final_message needs at least one message");
    }
    nlohmann::ordered_json marked = messages;
    auto& last = marked.back();
    if (!last.is_object() || !last.contains("content")) {
        throw_error("continue_final_message is set but the final message has no content");
    }
    auto& content = last["content"];
    if (content.is_string()) {
        content = content.get<std::string>() + std::string(kContinueTag);
        return marked;
    }
    if (content.is_array()) {
        for (auto block = content.rbegin(); block != content.rend(); ++block) {
            if (block->is_object() && block->contains("text") && (*block)["text"].is_string()) {
                (*block)["text"] = (*block)["text"].get<std::string>() + std::string(kContinueTag);
                return marked;
            }
        }
    }
    throw_error(
        "continue_final_message is set but we could not find any text to continue in the final "
        "message");
}

std::string cut_at_marker(std::string rendered) {
    const std::string_view bare = kContinueTag.substr(0, kContinueTag.size() - 1);
    const size_t at = rendered.rfind(bare);
    if (at == std::string::npos) {
        throw_error(
            "continue_final_message is set but the final message does not appear in the chat after "
            "applying the chat template");
    }
    const bool space_kept = rendered.compare(at, kContinueTag.size(), kContinueTag) == 0;
    rendered.resize(at);
    if (!space_kept) {
        // The template trimmed the message: drop the whitespace it would have trimmed too.
        while (!rendered.empty() && std::isspace(static_cast<unsigned char>(rendered.back()))) {
            rendered.pop_back();
        }
    }
    return rendered;
}

// Request data converted for the template; a value too deeply nested is the request's fault.
jinja::Value to_value(const nlohmann::ordered_json& j, std::string_view field) {
    try {
        return jinja::Value::from_json(j);
    } catch (const jinja::EvalError& e) {
        throw_error("chat template input '{}': {}", field, e.what());
    }
}

void add_token(jinja::Variables& vars, const char* name, const std::optional<std::string>& token) {
    if (token) vars.emplace_back(name, jinja::Value(*token));
}

}  // namespace

ChatTemplate ChatTemplate::load(const std::filesystem::path& folder) {
    ChatTemplate result;
    result.origin_ = folder.string();
    const auto config_path = folder / "tokenizer_config.json";
    nlohmann::ordered_json config = nlohmann::ordered_json::object();
    if (std::filesystem::exists(config_path)) {
        try {
            config = nlohmann::ordered_json::parse(util::read_file(config_path));
        } catch (const nlohmann::json::exception& e) {
            throw_error("{}: invalid JSON: {}", config_path.string(), e.what());
        }
        result.tokens_ = read_special_tokens(config, config_path);
    }
    const auto jinja_path = folder / "chat_template.jinja";
    if (std::filesystem::exists(jinja_path)) {
        result.default_ = jinja::Template::parse(util::read_file(jinja_path), jinja_path.string());
        return result;
    }
    const auto it = config.find("chat_template");
    if (it == config.end() || it->is_null()) return result;
    const std::string name = config_path.string() + " chat_template";
    if (it->is_string()) {
        result.default_ = jinja::Template::parse(it->get<std::string>(), name);
        return result;
    }
    if (!it->is_array()) {
        throw_error("{}: field 'chat_template' must be a string or a list of {{name, template}}",
                    config_path.string());
    }
    for (const auto& entry : *it) {
        if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") ||
            !entry["name"].is_string() || !entry["template"].is_string()) {
            throw_error("{}: each 'chat_template' entry needs string 'name' and 'template'",
                        config_path.string());
        }
        const std::string entry_name = entry["name"].get<std::string>();
        auto parsed =
            jinja::Template::parse(entry["template"].get<std::string>(), name + " " + entry_name);
        if (entry_name == "default")
            result.default_ = std::move(parsed);
        else if (entry_name == "tool_use")
            result.tool_use_ = std::move(parsed);
    }
    if (!result.default_ && result.tool_use_) {
        result.default_ = result.tool_use_;
    }
    return result;
}

ChatTemplate ChatTemplate::from_string(const std::string& template_text, ChatSpecialTokens tokens,
                                       std::string name) {
    ChatTemplate result;
    result.origin_ = name;
    result.default_ = jinja::Template::parse(template_text, std::move(name));
    result.tokens_ = std::move(tokens);
    return result;
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages,
                                 const ChatRenderOptions& options) const {
    if (!default_) throw_error("{} has no chat template", origin_);
    if (!messages.is_array()) throw_error("{}: messages must be a list", origin_);
    if (options.continue_final_message && options.add_generation_prompt) {
        throw_error(
            "continue_final_message and add_generation_prompt are not compatible; use "
            "continue_final_message when the final message is an assistant prefill");
    }
    const jinja::Template& tmpl = !options.tools.is_null() && tool_use_ ? *tool_use_ : *default_;

    jinja::Variables vars;
    vars.reserve(10);
    vars.emplace_back(
        "messages",
        to_value(options.continue_final_message ? mark_final_message(messages) : messages,
                 "messages"));
    vars.emplace_back("tools", to_value(options.tools, "tools"));
    vars.emplace_back("documents", to_value(options.documents, "documents"));
    vars.emplace_back("add_generation_prompt", jinja::Value(options.add_generation_prompt));
    add_token(vars, "bos_token", tokens_.bos_token);
    add_token(vars, "eos_token", tokens_.eos_token);
    add_token(vars, "unk_token", tokens_.unk_token);
    add_token(vars, "pad_token", tokens_.pad_token);
    if (!tokens_.additional_special_tokens.empty()) {
        jinja::List extra;
        for (const auto& t : tokens_.additional_special_tokens) extra.emplace_back(t);
        vars.emplace_back("additional_special_tokens", jinja::Value(std::move(extra)));
    }
    if (!options.chat_template_kwargs.is_null()) {
        if (!options.chat_template_kwargs.is_object()) {
            throw_error("chat_template_kwargs must be an object");
        }
        for (const auto& [key, value] : options.chat_template_kwargs.items()) {
            vars.emplace_back(key, to_value(value, key));
        }
    }
    std::string rendered = tmpl.render(vars);
    return options.continue_final_message ? cut_at_marker(std::move(rendered)) : rendered;
}

}  // namespace ovllm
