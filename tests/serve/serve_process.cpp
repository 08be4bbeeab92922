#include "serve_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "test_paths.hpp"

namespace ovllm::serve_test {
namespace {

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t size = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        ::close(fd);
        throw std::runtime_error("no free port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

pid_t spawn(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd) {
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(stdout_fd, STDOUT_FILENO);
        ::dup2(stderr_fd, STDERR_FILENO);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

std::filesystem::path log_dir() {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / "ovllm_serve_test";
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace

std::filesystem::path model_dir() {
    return ovllm::test::models_dir() / "smollm2-135m";
}

std::vector<std::string> exact_engine_flags() {
    return {"--dtype",          "f32", "--kv-cache-dtype", "f32",
            "--kv-cache-space", "0.5", "--max-model-len",  std::to_string(kMaxModelLen)};
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::filesystem::path& log_file) {
    const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + log_file.string());
    pid_ = spawn(argv, fd, fd);
    ::close(fd);
    if (pid_ < 0) throw std::runtime_error("fork failed");
}

ChildProcess::~ChildProcess() {
    terminate();
}

bool ChildProcess::running() {
    if (pid_ < 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        pid_ = -1;
        return false;
    }
    return true;
}

int ChildProcess::terminate() {
    if (pid_ < 0) return status_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
    return status_;
}

std::string run_command(const std::vector<std::string>& argv, int* exit_code) {
    const std::filesystem::path out = log_dir() / "command.out";
    const std::filesystem::path err = log_dir() / "command.err";
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const pid_t pid = spawn(argv, out_fd, err_fd);
    ::close(out_fd);
    ::close(err_fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

ServeServer::ServeServer(const std::vector<std::string>& extra) : port_(free_port()) {
    std::vector<std::string> argv = {ovllm::test::ovllm_binary().string(),
                                     "serve",
                                     model_dir().string(),
                                     "--port",
                                     std::to_string(port_),
                                     "--host",
                                     "127.0.0.1",
                                     "--disable-log-requests"};
    for (const std::string& flag : exact_engine_flags()) argv.push_back(flag);
    for (const std::string& flag : extra) argv.push_back(flag);
    log_file_ = log_dir() / ("serve_" + std::to_string(port_) + ".log");
    process_ = std::make_unique<ChildProcess>(argv, log_file_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_->running()) throw std::runtime_error("ovllm serve exited:\n" + log());
        httplib::Client probe("127.0.0.1", port_);
        probe.set_connection_timeout(1);
        if (auto result = probe.Get("/health"); result && result->status == 200) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    throw std::runtime_error("ovllm serve did not become healthy:\n" + log());
}

std::string ServeServer::log() const {
    std::ifstream in(log_file_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

httplib::Client ServeServer::client(int read_timeout_s) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(read_timeout_s);
    client.set_tcp_nodelay(true);
    return client;
}

httplib::Result ServeServer::post(const std::string& path, const json& body) const {
    return client().Post(path.c_str(), auth(), body.dump(), "application/json");
}

httplib::Request ServeServer::stream_request(const std::string& prompt, int max_tokens) const {
    const json body = {{"prompt", prompt}, {"max_tokens", max_tokens},
                       {"temperature", 0}, {"ignore_eos", true},
                       {"stream", true},   {"stream_options", {{"include_usage", true}}}};
    httplib::Request request;
    request.method = "POST";
    request.path = "/v1/completions";
    request.headers = auth();
    request.headers.emplace("Content-Type", "application/json");
    request.body = body.dump();
    return request;
}

httplib::Result ServeServer::get(const std::string& path) const {
    return client().Get(path.c_str(), auth());
}

double ServeServer::metric(const std::string& name) const {
    const httplib::Result result = get("/metrics");
    if (!result || result->status != 200) throw std::runtime_error("GET /metrics failed");
    std::istringstream lines(result->body);
    std::string line;
    double total = 0.0;
    bool found = false;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#' || line.rfind(name, 0) != 0) continue;
        const char next = line.size() > name.size() ? line[name.size()] : ' ';
        if (next != ' ' && next != '{') continue;
        total += std::stod(line.substr(line.rfind(' ') + 1));
        found = true;
    }
    if (!found) throw std::runtime_error("no metric " + name);
    return total;
}

namespace {

// Owns the shared server; gtest deletes it after the last test, which stops the server.
class SharedServerEnvironment : public ::testing::Environment {
  public:
    ServeServer& get() {
        if (!server_)
            server_ = std::make_unique<ServeServer>(
                std::vector<std::string>{"--api-key", kApiKey, "--served-model-name", kModelName});
        return *server_;
    }
    void TearDown() override {
        if (server_) {
            EXPECT_EQ(server_->process().terminate(), 0) << "ovllm serve did not exit cleanly";
            server_.reset();
        }
    }

  private:
    std::unique_ptr<ServeServer> server_;
};

SharedServerEnvironment* const environment = static_cast<SharedServerEnvironment*>(
    ::testing::AddGlobalTestEnvironment(new SharedServerEnvironment));

}  // namespace

ServeServer& shared_server() {
    return environment->get();
}

}  // namespace ovllm::serve_test
