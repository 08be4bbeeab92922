#pragma once
// The tokenizer and chat template that go with --model / --tokenizer: an HF folder's
// tokenizer.json and chat template, or the tokenizer.ggml.* and tokenizer.chat_template
// metadata of a .gguf file.
#include <memory>
#include <string>

#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ovllm::engine {

bool is_gguf_file(const std::string& path);

// nullptr when `path` is neither a folder with tokenizer.json nor a GGUF file (prompts must
// then be token ids). Throws ovllm::Error naming the file for a bad tokenizer.
std::unique_ptr<tokenizer::Tokenizer> load_tokenizer(const std::string& path);

// A GGUF file without tokenizer.chat_template, like a folder without one, loads fine with
// has_template() false.
ChatTemplate load_chat_template(const std::string& path);

}  // namespace ovllm::engine
