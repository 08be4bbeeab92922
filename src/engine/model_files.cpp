#include "engine/model_files.hpp"

#include <filesystem>

#include "model/gguf.hpp"
#include "tokenizer/gguf_vocab.hpp"

namespace ovllm::engine {
namespace {

std::vector<int32_t> int_array(const model::GgufFile& f, const std::string& key) {
    const auto a = f.get_array(key);
    if (!a) return {};
    return {a->numbers.begin(), a->numbers.end()};
}

std::vector<std::string> string_array(const model::GgufFile& f, const std::string& key) {
    auto a = f.get_array(key);
    return a ? std::move(a->strings) : std::vector<std::string>{};
}

std::optional<bool> flag(const model::GgufFile& f, const std::string& key) {
    const auto it = f.metadata().find(key);
    if (it == f.metadata().end()) return std::nullopt;
    if (const auto* b = std::get_if<bool>(&it->second)) return *b;
    return f.get_int(key).value_or(0) != 0;
}

tokenizer::GgufVocab read_vocab(const model::GgufFile& f) {
    tokenizer::GgufVocab v;
    v.file = f.path().string();
    v.model = f.get_string("tokenizer.ggml.model").value_or("");
    v.pre = f.get_string("tokenizer.ggml.pre").value_or("");
    v.tokens = string_array(f, "tokenizer.ggml.tokens");
    v.merges = string_array(f, "tokenizer.ggml.merges");
    v.token_types = int_array(f, "tokenizer.ggml.token_type");
    if (const auto scores = f.get_array("tokenizer.ggml.scores")) {
        v.scores.assign(scores->numbers.begin(), scores->numbers.end());
    }
    v.bos_id = f.get_int("tokenizer.ggml.bos_token_id");
    v.eos_id = f.get_int("tokenizer.ggml.eos_token_id");
    v.unk_id = f.get_int("tokenizer.ggml.unknown_token_id");
    v.pad_id = f.get_int("tokenizer.ggml.padding_token_id");
    v.add_bos = flag(f, "tokenizer.ggml.add_bos_token");
    v.add_eos = flag(f, "tokenizer.ggml.add_eos_token");
    v.add_space_prefix = flag(f, "tokenizer.ggml.add_space_prefix");
    return v;
}

std::optional<std::string> token_text(const std::vector<std::string>& tokens,
                                      std::optional<int64_t> id) {
    if (!id || *id < 0 || static_cast<size_t>(*id) >= tokens.size()) return std::nullopt;
    return tokens[static_cast<size_t>(*id)];
}

}  // namespace

bool is_gguf_file(const std::string& path) {
    std::error_code ec;
    return path.ends_with(".gguf") && std::filesystem::is_regular_file(path, ec);
}

std::unique_ptr<tokenizer::Tokenizer> load_tokenizer(const std::string& path) {
    namespace fs = std::filesystem;
    if (is_gguf_file(path)) {
        const model::GgufFile file(path);
        return std::make_unique<tokenizer::Tokenizer>(
            tokenizer::Tokenizer::from_gguf(read_vocab(file)));
    }
    std::error_code ec;
    if (path.empty() || !fs::is_directory(path, ec) ||
        !fs::exists(fs::path(path) / "tokenizer.json"))
        return nullptr;
    return std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::from_folder(path));
}

ChatTemplate load_chat_template(const std::string& path) {
    if (!is_gguf_file(path)) return ChatTemplate::load(path);
    const model::GgufFile file(path);
    const auto text = file.get_string("tokenizer.chat_template");
    if (!text) return ChatTemplate::load(path);  // finds no template files: has_template() false
    const auto tokens = string_array(file, "tokenizer.ggml.tokens");
    ChatSpecialTokens special;
    special.bos_token = token_text(tokens, file.get_int("tokenizer.ggml.bos_token_id"));
    special.eos_token = token_text(tokens, file.get_int("tokenizer.ggml.eos_token_id"));
    special.unk_token = token_text(tokens, file.get_int("tokenizer.ggml.unknown_token_id"));
    special.pad_token = token_text(tokens, file.get_int("tokenizer.ggml.padding_token_id"));
    return ChatTemplate::from_string(*text, std::move(special), path + ": tokenizer.chat_template");
}

}  // namespace ovllm::engine
