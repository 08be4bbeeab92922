#pragma once
// Each subcommand of the `ovllm` binary lives in its own apps/cmd_<name>.cpp and adds
// itself to the top-level CLI11 app. The returned callback runs when it is selected.
#include <functional>

#include <CLI/CLI.hpp>

namespace ovllm::cli {

using Command = std::function<int()>;

// One line per subcommand; apps/ovllm.cpp calls each in this order.
Command add_info_command(CLI::App& app);
Command add_generate_command(CLI::App& app);
Command add_tokenize_command(CLI::App& app);
Command add_detokenize_command(CLI::App& app);
Command add_chat_command(CLI::App& app);
Command add_convert_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_serve_command(CLI::App& app);
Command add_download_command(CLI::App& app);

}  // namespace ovllm::cli
