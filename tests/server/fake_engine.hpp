#pragma once
// A deterministic EngineClient for the server tests. Tokens are bytes (id = byte + 3; 1 is
// BOS, 2 is EOS); choice c of a request generates the letters 'a' + (c + step) % 26, one per
// tick of its own engine thread. The engine's own OutputProcessor turns them into outputs
// (the letter tokenizer of tests/letter_tokenizer.hpp decodes them), so stop strings, stop
// tokens, max_tokens and output kinds behave as in the real engine.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "engine/output_processor.hpp"
#include "server/engine_client.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ovllm::server::test {

class FakeEngine : public EngineClient {
  public:
    explicit FakeEngine(std::chrono::microseconds tick = std::chrono::microseconds(200));
    ~FakeEngine() override;

    std::shared_ptr<OutputStream> submit(GenerateRequest request) override;
    void abort(const std::string& request_id) override;
    std::vector<int64_t> tokenize(std::string_view text, bool add_special_tokens) override;
    std::string detokenize(const std::vector<int64_t>& token_ids) override;
    std::string apply_chat_template(const ChatTemplateRequest& request) override;
    EngineSnapshot stats() override;
    ModelInfo model_info() override;
    bool reset_prefix_cache() override;  // true when no request is active

    // What the tests look at.
    std::vector<GenerateRequest> submitted() const;
    std::set<std::string> aborted() const;
    ChatTemplateRequest last_chat() const;
    std::vector<ChatTemplateRequest> chats() const;  // every chat rendered, in order
    size_t active() const;
    bool wait_for_abort(const std::string& prefix, std::chrono::milliseconds timeout) const;

    // Knobs.
    std::atomic<int> forced_waiting{0};  // reported as num_waiting
    std::atomic<int> cached_tokens{0};   // reported as num_cached_tokens
    std::atomic<bool> paused{false};     // stop generating while true
    std::atomic<size_t> peak_active{0};  // most requests ever running at once

    static constexpr int kVocabSize = 300;
    static constexpr int kMaxModelLen = 128;
    static constexpr int64_t kBos = 1;
    static constexpr int64_t kEos = 2;

  private:
    struct Active {
        std::unique_ptr<engine::Request> request;
        std::shared_ptr<OutputStream> stream;
        bool fail = false;  // the prompt asked the stream to fail after one output
    };
    void loop();
    bool step(Active& active);  // true when the request finished

    const std::chrono::microseconds tick_;
    const tokenizer::Tokenizer tokenizer_;
    const engine::OutputProcessor processor_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::map<std::string, Active> active_;
    std::vector<GenerateRequest> submitted_;
    std::set<std::string> aborted_;
    ChatTemplateRequest last_chat_;
    std::vector<ChatTemplateRequest> chats_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace ovllm::server::test
