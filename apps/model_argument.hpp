#pragma once
// Every subcommand takes its model both as `--model M` and positionally (`ovllm info M`),
// as `vllm serve M` does. Giving both with different values is an error.
#include <string>

#include <CLI/CLI.hpp>

namespace ovllm::cli {

class ModelArgument {
  public:
    // Registers the positional MODEL on `cmd` (--model is registered by the caller, or by
    // config::add_engine_flags).
    void add_positional(CLI::App& cmd, const std::string& description);
    // Registers both the positional MODEL and --model on `cmd`.
    void add_both(CLI::App& cmd, const std::string& description);
    // The model to use: from whichever form was given; `flag_value` is --model's value.
    // Throws ovllm::Error when both are given and differ, or when `command` got neither.
    std::string resolve(const std::string& flag_value, const std::string& command) const;
    std::string resolve(const std::string& command) const { return resolve(flag_, command); }
    bool positional_given() const { return !positional_.empty(); }

  private:
    std::string positional_;
    std::string flag_;
};

}  // namespace ovllm::cli
