#pragma once
// `ovllm bench serve`: the serving benchmark client (vLLM's `vllm bench serve`). The `bench`
// parent command calls this to add the `serve` subcommand under itself and runs the returned
// callback when `bench serve` was parsed.
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace ovllm::cli {

Command add_bench_serve_subcommand(CLI::App& bench);

}  // namespace ovllm::cli
