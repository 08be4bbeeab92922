// The HTTP layer under abuse: Slowloris, connection cap, timeouts, body limits, methods, CORS
// and graceful drain, over real loopback sockets against the fake engine.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <sstream>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "server_fixture.hpp"

namespace ovllm::server::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Threads of this process (the server runs inside it).
size_t thread_count() {
    size_t count = 0;
    DIR* dir = opendir("/proc/self/task");
    if (!dir) return 0;
    while (const dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
    return count;
}

// A raw client socket, for requests no well-behaved client library would send.
class RawSocket {
  public:
    explicit RawSocket(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    }
    ~RawSocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    RawSocket(RawSocket&& other) noexcept : fd_(other.fd_), connected_(other.connected_) {
        other.fd_ = -1;
    }
    bool connected() const { return connected_; }
    bool send(const std::string& data) const {
        return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(data.size());
    }
    // Everything the server sends until it closes or `timeout` passes.
    std::string read_all(std::chrono::milliseconds timeout, bool* closed = nullptr) const {
        std::string data;
        const auto deadline = Clock::now() + timeout;
        if (closed) *closed = false;
        while (Clock::now() < deadline) {
            pollfd waiting{fd_, POLLIN, 0};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (::poll(&waiting, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) {
                continue;
            }
            char buffer[4096];
            const ssize_t count = ::recv(fd_, buffer, sizeof(buffer), 0);
            if (count <= 0) {
                if (closed) *closed = true;
                break;
            }
            data.append(buffer, static_cast<size_t>(count));
        }
        return data;
    }

  private:
    int fd_ = -1;
    bool connected_ = false;
};

int status_of(const std::string& response) {
    if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
    return std::stoi(response.substr(9, 3));
}

class LimitsTest : public ServerTest {
  protected:
    void SetUp() override {}
    void restart(const http::Limits& limits) {
        ServerOptions options;
        options.limits = limits;
        start(options);
    }
    void expect_completion_ok() const {
        const auto result = post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 3}});
        ASSERT_TRUE(result);
        EXPECT_EQ(result->status, 200) << result->body;
    }
};

TEST_F(LimitsTest, SlowlorisDoesNotLockOutOtherClientsOrAddThreads) {
    // 1,500 client sockets and 1,500 server sockets live in this one process.
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = std::max<rlim_t>(files.rlim_cur, std::min<rlim_t>(files.rlim_max, 8192));
    setrlimit(RLIMIT_NOFILE, &files);
    ASSERT_GE(files.rlim_cur, 3200u) << "needs 3,200 open files";
    restart(http::Limits{});
    expect_completion_ok();
    const size_t threads_before = thread_count();

    std::vector<RawSocket> attackers;
    for (int i = 0; i < 1500; ++i) {
        RawSocket socket(port_);
        ASSERT_TRUE(socket.connected()) << "connection " << i;
        // Half stop inside the headers, half inside a body they announced.
        const std::string partial =
            i % 2 == 0 ? "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Ty"
                       : "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                         "\r\n{\"prompt\":";
        ASSERT_TRUE(socket.send(partial));
        attackers.push_back(std::move(socket));
    }
    std::this_thread::sleep_for(200ms);  // let the server read every partial request

    const auto started = Clock::now();
    expect_completion_ok();
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    EXPECT_LT(seconds, 2.0);
    // The I/O and handler pools have fixed sizes: a thread per connection would add 1,500.
    const size_t threads_during = thread_count();
    EXPECT_LE(threads_during, threads_before + 2)
        << threads_before << " threads before, " << threads_during << " during";
}

TEST_F(LimitsTest, ConnectionsOverTheCapAreClosedAtOnce) {
    http::Limits limits;
    limits.max_connections = 8;
    limits.io_threads = 1;  // MHD splits the cap between its I/O threads
    restart(limits);
    std::vector<RawSocket> held;
    for (int i = 0; i < 8; ++i) {
        held.emplace_back(port_);
        ASSERT_TRUE(held.back().send("GET /health HTTP/1.1\r\nHost: x\r\n"));
    }
    std::this_thread::sleep_for(200ms);
    RawSocket extra(port_);
    bool closed = false;
    const auto started = Clock::now();
    const std::string answer = extra.read_all(2000ms, &closed);
    EXPECT_TRUE(closed) << "the ninth connection was kept open";
    EXPECT_LT(Clock::now() - started, 1000ms);
    EXPECT_EQ(status_of(answer), 503) << answer;
    EXPECT_NE(answer.find("--limit-concurrency"), std::string::npos) << answer;
    held.clear();
    std::this_thread::sleep_for(200ms);
    expect_completion_ok();
}

TEST_F(LimitsTest, IdleAndTricklingConnectionsAreClosed) {
    http::Limits limits;
    limits.idle_timeout = 1s;
    limits.request_timeout = 2s;
    restart(limits);
    // Idle: nothing after connecting.
    RawSocket idle(port_);
    bool closed = false;
    idle.read_all(3000ms, &closed);
    EXPECT_TRUE(closed) << "an idle connection outlived --timeout-keep-alive";

    // Trickling: a byte every 300 ms never trips the idle timer, but the request deadline
    // closes it.
    RawSocket trickle(port_);
    const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    const auto started = Clock::now();
    bool open = true;
    for (size_t i = 0; open && Clock::now() - started < 6s; ++i) {
        open = trickle.send(std::string(1, request[i % request.size()]));
        trickle.read_all(300ms, &closed);
        open = open && !closed;
    }
    EXPECT_FALSE(open) << "a trickling request outlived --timeout-request";
    EXPECT_LT(Clock::now() - started, 4s);
}

TEST_F(LimitsTest, BadContentLengthsAndLargeBodiesAreAnsweredQuickly) {
    http::Limits limits;
    limits.max_body_bytes = 1000;
    restart(limits);
    const auto ask = [this](const std::string& request) {
        RawSocket socket(port_);
        EXPECT_TRUE(socket.send(request));
        const auto started = Clock::now();
        const std::string answer = socket.read_all(1500ms);
        EXPECT_LT(Clock::now() - started, 1500ms);
        return answer;
    };
    const std::string head = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    EXPECT_EQ(status_of(ask(head + "Content-Length: -5\r\n\r\n")), 400);
    const std::string huge = ask(head + "Content-Length: 99999999999999\r\n\r\n");
    EXPECT_EQ(status_of(huge), 413);
    EXPECT_NE(huge.find("--max-request-body-bytes"), std::string::npos) << huge;
    EXPECT_EQ(status_of(ask(head + "Content-Length: 1001\r\n\r\n")), 413);
    // A chunked body has no length up front: refused once it passes the limit.
    const std::string chunk(600, 'x');
    const std::string chunked = head + "Transfer-Encoding: chunked\r\n\r\n258\r\n" + chunk +
                                "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n";
    EXPECT_EQ(status_of(ask(chunked)), 413);
    expect_completion_ok();
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
    const auto result = get("/v1/completions");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 405);
    EXPECT_EQ(result->get_header_value("Allow"), "POST");
    expect_error(result, 405);
    const auto deleted = client().Delete("/health");
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->status, 405);
    EXPECT_EQ(deleted->get_header_value("Allow"), "GET");
    const auto head = client().Head("/health");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
}

TEST_F(ServerTest, CorsAllowsEveryOriginByDefault) {
    const httplib::Headers preflight = {{"Origin", "https://app.example"},
                                        {"Access-Control-Request-Method", "POST"},
                                        {"Access-Control-Request-Headers", "authorization"}};
    const auto answer = client().Options("/v1/chat/completions", preflight);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->get_header_value("Access-Control-Allow-Origin"), "*");
    EXPECT_EQ(answer->get_header_value("Access-Control-Allow-Headers"), "authorization");
    EXPECT_NE(answer->get_header_value("Access-Control-Allow-Methods").find("POST"),
              std::string::npos);
    const auto simple = get("/v1/models", {{"Origin", "https://app.example"}});
    ASSERT_TRUE(simple);
    EXPECT_EQ(simple->get_header_value("Access-Control-Allow-Origin"), "*");
    const auto no_origin = get("/v1/models");
    ASSERT_TRUE(no_origin);
    EXPECT_FALSE(no_origin->has_header("Access-Control-Allow-Origin"));
}

TEST_F(ServerTest, CorsRefusesOriginsNotListed) {
    TearDown();
    ServerOptions options;
    options.cors.allowed_origins = {"https://good.example"};
    start(options);
    const auto bad = client().Options("/v1/models", {{"Origin", "https://evil.example"},
                                                     {"Access-Control-Request-Method", "GET"}});
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400);
    EXPECT_NE(bad->body.find("origin"), std::string::npos);
    const auto good = get("/v1/models", {{"Origin", "https://good.example"}});
    ASSERT_TRUE(good);
    EXPECT_EQ(good->get_header_value("Access-Control-Allow-Origin"), "https://good.example");
    EXPECT_EQ(good->get_header_value("Vary"), "Origin");
}

TEST_F(ServerTest, RejectedRequestsAreLogged) {
    std::ostringstream captured;
    auto previous = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
    spdlog::set_default_logger(logger);
    expect_error(post("/v1/completions", json{{"prompt", "x"}, {"max_tokens", -1}}), 400);
    expect_error(get("/v1/completions"), 405);
    expect_error(get("/nowhere"), 404);
    // Refused by the HTTP layer before any handler: a malformed Content-Length.
    RawSocket raw(port_);
    raw.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
    raw.read_all(std::chrono::milliseconds(1000));
    spdlog::set_default_logger(previous);
    const std::string log = captured.str();
    EXPECT_NE(log.find("POST /v1/completions from 127.0.0.1"), std::string::npos) << log;
    EXPECT_NE(log.find("400 max_tokens"), std::string::npos) << log;
    EXPECT_NE(log.find("GET /v1/completions from 127.0.0.1:"), std::string::npos) << log;
    EXPECT_NE(log.find("404"), std::string::npos) << log;
    EXPECT_NE(log.find("Content-Length"), std::string::npos) << log;
}

// Drain: streams in progress finish, /health says 503, new connections are refused.
TEST_F(ServerTest, DrainLetsStreamsFinishAndHealthSays503) {
    TearDown();
    start({}, std::chrono::microseconds(20000));  // 20 ms a token: 64 tokens take ~1.3 s
    httplib::Client keep = client();
    keep.set_keep_alive(true);
    ASSERT_EQ(keep.Get("/health")->status, 200);
    auto stream = std::async(std::launch::async, [this] {
        return post("/v1/completions",
                    json{{"prompt", "Hi"}, {"max_tokens", 64}, {"stream", true}});
    });
    std::this_thread::sleep_for(200ms);  // the stream is under way
    auto drained = std::async(std::launch::async, [this] { return server_->drain(10s); });
    std::this_thread::sleep_for(100ms);
    const auto health = keep.Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 503);
    EXPECT_FALSE(RawSocket(port_).connected()) << "a new connection was accepted while draining";
    EXPECT_EQ(drained.get(), 0u);
    const auto result = stream.get();
    ASSERT_TRUE(result);
    bool done = false;
    const auto events = parse_sse(result->body, &done);
    EXPECT_TRUE(done);
    std::string text;
    for (const json& event : events) text += event["choices"][0]["text"].get<std::string>();
    EXPECT_EQ(text.size(), 64u);
    EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "length");
}

TEST_F(ServerTest, StopAfterDrainTimeoutEndsStreamsWithAbortAndDone) {
    TearDown();
    start({}, std::chrono::microseconds(50000));  // 50 ms a token
    auto stream = std::async(std::launch::async, [this] {
        return post("/v1/completions",
                    json{{"prompt", "Hi"}, {"max_tokens", 100}, {"stream", true}});
    });
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(server_->drain(200ms), 1u);
    server_.reset();  // stop(): aborts what is left
    const auto result = stream.get();
    ASSERT_TRUE(result);
    bool done = false;
    const auto events = parse_sse(result->body, &done);
    EXPECT_TRUE(done);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "abort");
    EXPECT_TRUE(engine_->wait_for_abort("cmpl-", 2000ms));
}

}  // namespace
}  // namespace ovllm::server::test
