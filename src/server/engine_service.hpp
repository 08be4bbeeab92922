#pragma once
// The real EngineClient: owns an LLMEngine on a thread of its own. Handler threads talk to it
// through an inbox (new requests, aborts); the engine thread drains the inbox between steps,
// steps while there is work, pushes each delta RequestOutput into its request's stream and
// sleeps on a condition variable when idle. It never waits on a client.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>

#include "engine/llm_engine.hpp"
#include "ovllm/config.hpp"
#include "server/engine_client.hpp"
#include "server/kv_events_publisher.hpp"
#include "tokenizer/chat_template.hpp"

namespace ovllm::server {

class EngineService : public EngineClient {
  public:
    // Loads the model (throws ovllm::Error) and starts the engine thread. `chat_template`
    // (template text, empty = the model's own) overrides the model folder's template.
    explicit EngineService(EngineConfig config, const std::string& chat_template = {});
    ~EngineService() override;  // stop()
    EngineService(const EngineService&) = delete;
    EngineService& operator=(const EngineService&) = delete;

    // Waits for the engine thread to accept the request (at most one step); throws
    // ovllm::Error with the engine's message when it refuses it.
    std::shared_ptr<OutputStream> submit(GenerateRequest request) override;
    void abort(const std::string& request_id) override;
    std::vector<int64_t> tokenize(std::string_view text, bool add_special_tokens) override;
    std::string detokenize(const std::vector<int64_t>& token_ids) override;
    std::string apply_chat_template(const ChatTemplateRequest& request) override;
    EngineSnapshot stats() override;
    ModelInfo model_info() override;
    // Runs on the engine thread between steps; publishes the AllBlocksCleared event at once.
    bool reset_prefix_cache() override;

    // Closes every open stream, stops and joins the engine thread. Idempotent.
    void stop();

  private:
    struct Submission;
    using ResetReply = std::shared_ptr<std::promise<bool>>;
    // add | abort id | reset the prefix cache
    using InboxItem = std::variant<std::shared_ptr<Submission>, std::string, ResetReply>;

    // Starts the KV events publisher when the config asks for one.
    void start_kv_events(const EngineConfig& config);
    void run();
    void drain_inbox();
    void add(Submission& submission);
    void step_once();
    void publish_stats();
    // Aborts every running request and closes its stream with `why`.
    void close_all(const std::string& why);

    std::unique_ptr<engine::LLMEngine> engine_;
    std::unique_ptr<KVEventsPublisher> kv_events_;  // null unless KV events are on
    ChatTemplate chat_template_;
    ModelInfo model_info_;

    std::mutex inbox_mutex_;
    std::condition_variable inbox_ready_;
    std::deque<InboxItem> inbox_;
    bool stopping_ = false;

    // Engine thread only: the open stream of each running request.
    std::unordered_map<std::string, std::shared_ptr<OutputStream>> streams_;

    mutable std::mutex stats_mutex_;
    EngineSnapshot stats_;

    std::thread thread_;
};

}  // namespace ovllm::server
