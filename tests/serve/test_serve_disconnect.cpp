// Many concurrent streams against the real server, half of them dropped by the client
// mid-stream: the dropped ones must be aborted (no running request, no KV blocks left) and
// the others must finish with every token.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "serve_process.hpp"

namespace ovllm::serve_test {
namespace {

constexpr int kStreams = 200;   // every odd one is dropped by its client
constexpr int kMaxTokens = 24;  // prompt + output fit one 32-token block

struct StreamResult {
    bool ok = false;
    std::string body;
};

TEST(ServeDisconnect, DroppedStreamsAreAbortedAndTheOthersComplete) {
    ServeServer& server = shared_server();
    std::vector<StreamResult> results(kStreams);
    std::vector<std::thread> clients;
    for (int i = 0; i < kStreams; ++i) {
        clients.emplace_back([&, i] {
            const bool drop = i % 2 == 1;
            httplib::Client client = server.client();
            httplib::Request request = server.stream_request(
                "Request " + std::to_string(i) + " tells a story:", kMaxTokens);
            std::string received;
            int chunks = 0;
            request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
                received.append(data, size);
                // A dropping client hangs up after its third chunk.
                return !(drop && ++chunks >= 3);
            };
            const httplib::Result result = client.send(request);
            results[size_t(i)] = {result && result->status == 200, received};
        });
    }
    for (std::thread& client : clients) client.join();

    for (int i = 0; i < kStreams; i += 2) {
        SCOPED_TRACE("stream " + std::to_string(i));
        ASSERT_TRUE(results[size_t(i)].ok);
        bool done = false;
        const std::vector<json> events = parse_sse(results[size_t(i)].body, &done);
        EXPECT_TRUE(done);
        ASSERT_FALSE(events.empty());
        int text_chunks = 0;
        std::string finish;
        for (const json& event : events) {
            if (event["choices"].empty()) continue;
            ++text_chunks;
            if (event["choices"][0]["finish_reason"].is_string())
                finish = event["choices"][0]["finish_reason"];
        }
        EXPECT_EQ(finish, "length");
        EXPECT_GE(text_chunks, 1);
        EXPECT_EQ(events.back()["usage"]["completion_tokens"], kMaxTokens);
    }

    // The server notices each hang-up at its next write; give it a moment to abort them.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (server.metric("vllm:num_requests_running") > 0 &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(server.metric("vllm:num_requests_running"), 0);
    EXPECT_EQ(server.metric("vllm:num_requests_waiting"), 0);
    EXPECT_EQ(server.metric("vllm:kv_cache_usage_perc"), 0.0);
}

}  // namespace
}  // namespace ovllm::serve_test
