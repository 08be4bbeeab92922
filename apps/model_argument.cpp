#include "model_argument.hpp"

#include "util/error.hpp"

namespace ovllm::cli {

void ModelArgument::add_positional(CLI::App& cmd, const std::string& description) {
    cmd.add_option("model_tag", positional_, description + " (same as --model)");
}

void ModelArgument::add_both(CLI::App& cmd, const std::string& description) {
    add_positional(cmd, description);
    cmd.add_option("--model", flag_, description);
}

std::string ModelArgument::resolve(const std::string& flag_value,
                                   const std::string& command) const {
    if (!positional_.empty() && !flag_value.empty() && positional_ != flag_value) {
        throw_error("give the model once: positional '{}' and --model '{}' differ", positional_,
                    flag_value);
    }
    const std::string& model = positional_.empty() ? flag_value : positional_;
    if (model.empty()) {
        throw_error("no model: run `ovllm {} MODEL` or `ovllm {} --model MODEL`", command, command);
    }
    return model;
}

}  // namespace ovllm::cli
