#pragma once
// Post-processors of tokenizer.json ("post_processor"): add the model's special tokens around
// a single sequence when add_special_tokens is true. Supported types: TemplateProcessing,
// ByteLevel (ids unchanged), RobertaProcessing, BertProcessing, Sequence.
#include <cstdint>
#include <memory>
#include <vector>

#include "tokenizer/json_util.hpp"

namespace ovllm::tokenizer {

class PostProcessor {
  public:
    virtual ~PostProcessor() = default;
    // Rewrites the ids of one encoded sequence; called only with add_special_tokens.
    virtual void process(std::vector<int64_t>& ids) const = 0;
};

std::unique_ptr<PostProcessor> make_post_processor(const Json& node, const JsonPath& at);

}  // namespace ovllm::tokenizer
