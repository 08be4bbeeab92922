// The `ovllm` binary: one program, one subcommand per job.
#include <cstdio>
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "ovllm/version.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

int main(int argc, char** argv) {
    ovllm::log::setup();
    CLI::App app{"ovllm: high-throughput LLM inference and serving on CPUs with OpenVINO"};
    app.require_subcommand(1);
    app.set_version_flag("--version", ovllm::kVersion);

    using Adder = ovllm::cli::Command (*)(CLI::App&);
    const std::vector<Adder> adders = {
        ovllm::cli::add_info_command,     ovllm::cli::add_generate_command,
        ovllm::cli::add_tokenize_command, ovllm::cli::add_detokenize_command,
        ovllm::cli::add_chat_command,     ovllm::cli::add_convert_command,
        ovllm::cli::add_bench_command,    ovllm::cli::add_serve_command,
        ovllm::cli::add_download_command,
    };
    std::vector<ovllm::cli::Command> commands;
    for (const Adder add : adders) commands.push_back(add(app));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    const auto subcommands = app.get_subcommands({});
    try {
        for (size_t i = 0; i < subcommands.size(); ++i) {
            if (subcommands[i]->parsed()) return commands[i]();
        }
    } catch (const ovllm::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 1;
}
