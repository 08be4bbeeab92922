// Graceful shutdown of the real server: SIGTERM during a stream lets it finish (every token,
// then [DONE]) and the process exits 0; past --shutdown-timeout the stream is cut with an
// abort chunk and [DONE], still with exit status 0.
#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "serve_process.hpp"

namespace ovllm::serve_test {
namespace {

using namespace std::chrono_literals;

struct Streamed {
    bool ok = false;
    std::string body;
};

// Starts a stream of `max_tokens` tokens; `first_chunk` is set once the first one arrived.
std::future<Streamed> start_stream(const ServeServer& server, int max_tokens,
                                   std::atomic<bool>& first_chunk) {
    return std::async(std::launch::async, [&server, max_tokens, &first_chunk] {
        httplib::Client client = server.client();
        httplib::Request request = server.stream_request("Once upon a time", max_tokens);
        Streamed streamed;
        request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
            streamed.body.append(data, size);
            first_chunk = true;
            return true;
        };
        const httplib::Result result = client.send(request);
        streamed.ok = result && result->status == 200;
        return streamed;
    });
}

void wait_for(const std::atomic<bool>& flag) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!flag && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    ASSERT_TRUE(flag) << "the stream did not start";
}

TEST(ServeDrain, SigtermLetsARunningStreamFinishAndExitsZero) {
    ServeServer server({"--shutdown-timeout", "60"});
    std::atomic<bool> first_chunk{false};
    auto stream = start_stream(server, 64, first_chunk);
    wait_for(first_chunk);
    const int exit_code = server.process().terminate();  // SIGTERM, then waits for the exit
    const Streamed streamed = stream.get();
    EXPECT_EQ(exit_code, 0) << server.log();
    ASSERT_TRUE(streamed.ok);
    bool done = false;
    const auto events = parse_sse(streamed.body, &done);
    EXPECT_TRUE(done) << streamed.body;
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events.back()["usage"]["completion_tokens"], 64);
    const json& last_choice = events[events.size() - 2]["choices"][0];
    EXPECT_EQ(last_choice["finish_reason"], "length");
    EXPECT_NE(server.log().find("Shutting down"), std::string::npos);
}

TEST(ServeDrain, PastTheShutdownTimeoutStreamsEndWithAbortAndDone) {
    ServeServer server({"--shutdown-timeout", "0.2"});
    std::atomic<bool> first_chunk{false};
    auto stream = start_stream(server, 1500, first_chunk);
    wait_for(first_chunk);
    const int exit_code = server.process().terminate();
    const Streamed streamed = stream.get();
    EXPECT_EQ(exit_code, 0) << server.log();
    bool done = false;
    const auto events = parse_sse(streamed.body, &done);
    EXPECT_TRUE(done) << streamed.body.substr(
        streamed.body.size() > 500 ? streamed.body.size() - 500 : 0);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events[events.size() - 2]["choices"][0]["finish_reason"], "abort");
    EXPECT_LT(events.back()["usage"]["completion_tokens"].get<int>(), 1500);
    EXPECT_NE(server.log().find("still in progress after --shutdown-timeout"), std::string::npos)
        << server.log();
}

}  // namespace
}  // namespace ovllm::serve_test
