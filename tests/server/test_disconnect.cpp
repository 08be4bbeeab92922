// A client that goes away mid-stream aborts its request at once; others carry on.
#include <thread>

#include "server_fixture.hpp"

namespace ovllm::server::test {
namespace {

class DisconnectTest : public ServerTest {
  protected:
    // A slow engine (2 ms per token) so the stream is still running when the client leaves.
    void SetUp() override { start({}, std::chrono::milliseconds(2)); }
};

TEST_F(DisconnectTest, ClientClosingMidStreamAbortsItsRequestOnly) {
    std::string other_text;
    std::thread other([&] {
        const auto result =
            post("/v1/completions", json{{"prompt", "y"}, {"max_tokens", 60}, {"stream", true}});
        if (!result) return;
        for (const json& event : parse_sse(result->body)) {
            if (!event["choices"].empty())
                other_text += event["choices"][0]["text"].get<std::string>();
        }
    });

    httplib::Client client("127.0.0.1", port_);
    httplib::Request request;
    request.method = "POST";
    request.path = "/v1/completions";
    request.body = json{{"prompt", "x"}, {"max_tokens", 120}, {"stream", true}}.dump();
    request.set_header("Content-Type", "application/json");
    size_t received = 0;
    request.content_receiver = [&](const char*, size_t length, uint64_t, uint64_t) {
        received += length;
        return false;  // hang up after the first piece of the stream
    };
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    EXPECT_FALSE(client.send(request, response, error));
    EXPECT_GT(received, 0u);
    client.stop();

    // The aborted request's id is "<cmpl id>-0"; the engine must see it well before its 120
    // tokens (240 ms at 2 ms per token) would have finished on their own.
    ASSERT_TRUE(engine_->wait_for_abort("cmpl-", std::chrono::seconds(10)));
    const auto aborted = engine_->aborted();
    ASSERT_EQ(aborted.size(), 1u);
    const auto submitted = engine_->submitted();
    const auto it = std::find_if(submitted.begin(), submitted.end(),
                                 [](const auto& r) { return r.prompt_text == "x"; });
    ASSERT_NE(it, submitted.end());
    EXPECT_EQ(*aborted.begin(), it->request_id);

    other.join();
    EXPECT_EQ(other_text.size(), 60u);
    const auto metrics = get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_NE(metrics->body.find("vllm:request_success_total{model_name=\"fake-model\","
                                 "finished_reason=\"abort\"} 1\n"),
              std::string::npos)
        << metrics->body;
}

}  // namespace
}  // namespace ovllm::server::test
