#pragma once
// Runs the real `ovllm serve` binary on SmolLM2-135M (f32 weights and KV cache, so greedy
// output is exact) on a free loopback port, shared by every test of the suite, and small
// HTTP helpers to talk to it.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "openai_test_util.hpp"

namespace ovllm::serve_test {

using ovllm::test::expect_error;
using ovllm::test::parse_sse;

using nlohmann::json;

inline constexpr const char* kApiKey = "test-key";
inline constexpr const char* kModelName = "smollm2";
inline constexpr int kMaxModelLen = 2048;

std::filesystem::path model_dir();
// The engine flags both the server and `ovllm generate` run with.
std::vector<std::string> exact_engine_flags();

// A child process; the destructor sends SIGTERM and waits.
class ChildProcess {
  public:
    ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_file);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    bool running();
    // Sends SIGTERM and returns the exit status (-1 if it did not exit normally).
    int terminate();
    pid_t pid() const { return pid_; }

  private:
    pid_t pid_ = -1;
    int status_ = -1;
};

// Runs a command to completion; returns its stdout (stderr goes to the log file).
std::string run_command(const std::vector<std::string>& argv, int* exit_code = nullptr);

class ServeServer {
  public:
    // Starts `ovllm serve` with `extra` flags and waits for GET /health (throws on failure).
    explicit ServeServer(const std::vector<std::string>& extra = {});
    int port() const { return port_; }
    ChildProcess& process() { return *process_; }
    std::string log() const;

    httplib::Client client(int read_timeout_s = 120) const;
    httplib::Headers auth() const { return {{"Authorization", std::string("Bearer ") + kApiKey}}; }
    httplib::Result post(const std::string& path, const json& body) const;
    httplib::Result get(const std::string& path) const;
    // A greedy 'ignore_eos' streamed completion of `max_tokens` tokens with usage in its last
    // chunk, authorized; the caller sets content_receiver and sends it.
    httplib::Request stream_request(const std::string& prompt, int max_tokens) const;
    // The sum of a /metrics series' samples over all its label sets.
    double metric(const std::string& name) const;

  private:
    int port_ = 0;
    std::filesystem::path log_file_;
    std::unique_ptr<ChildProcess> process_;
};

// The suite's shared server (started on first use, stopped when the tests end).
ServeServer& shared_server();

}  // namespace ovllm::serve_test
