#pragma once
// Runs a shell command for end-to-end tests and captures its standard output.
#include <array>
#include <cstdio>
#include <string>

#include "test_paths.hpp"

namespace ovllm::test {

struct CommandResult {
    int status = -1;  // as returned by pclose (0 = success)
    std::string out;  // standard output only
};

inline CommandResult run_command(const std::string& command) {
    CommandResult run;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return run;
    std::array<char, 4096> buffer{};
    while (fgets(buffer.data(), buffer.size(), pipe)) run.out += buffer.data();
    run.status = pclose(pipe);
    return run;
}

// The real `ovllm` binary with `args`, after the shell assignments in `env` ("A=1 B=2").
// Its logs (stderr) follow the standard output when `with_stderr`, else they are dropped.
inline CommandResult run_ovllm(const std::string& env, const std::string& args, bool with_stderr) {
    return run_command(env + " " + ovllm_binary().string() + " " + args +
                       (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

inline CommandResult run_ovllm(const std::string& args) {
    return run_ovllm("", args, false);
}

}  // namespace ovllm::test
