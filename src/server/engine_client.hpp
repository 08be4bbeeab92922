#pragma once
// What the HTTP server needs from an engine. The real engine implements this through its
// engine-thread wrapper; tests implement it with a fake. Every method must be thread-safe:
// the server calls them from many handler threads at once.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovllm/sampling_params.hpp"
#include "server/output_stream.hpp"

namespace ovllm::server {

struct GenerateRequest {
    std::string request_id;                 // unique; also the key for abort()
    std::vector<int64_t> prompt_token_ids;  // always filled; the server tokenizes text prompts
    std::string prompt_text;                // the prompt as text when the client sent text
    SamplingParams params;                  // output_kind is delta: each output holds new text
};

// Counters are totals since the engine started; gauges are the current values.
struct EngineSnapshot {
    int num_running = 0;
    int num_waiting = 0;
    double kv_cache_usage = 0.0;        // fraction in [0, 1]
    uint64_t prefix_cache_queries = 0;  // prompt tokens looked up in the prefix cache
    uint64_t prefix_cache_hits = 0;     // of those, tokens found
    uint64_t num_preemptions = 0;
    uint64_t spec_num_drafts = 0;  // speculative decoding, as engine::EngineStats
    uint64_t spec_draft_tokens = 0;
    uint64_t spec_accepted_tokens = 0;
};

struct ModelInfo {
    std::string name;  // the model path or name given to the engine
    int max_model_len = 0;
    int vocab_size = 0;
    std::vector<int64_t> eos_token_ids;
};

// Inputs of a chat template rendering; json values are as the client sent them.
struct ChatTemplateRequest {
    // In the client's key order: templates print tools (and call arguments) with tojson.
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // [{role, content}, ...]
    nlohmann::ordered_json tools;  // null or a list of tool specs
    bool add_generation_prompt = true;
    bool continue_final_message = false;
    nlohmann::json chat_template_kwargs = nlohmann::json::object();
    std::string chat_template;  // empty = the model's own template
};

class EngineClient {
  public:
    virtual ~EngineClient() = default;

    // Queues a request. Outputs (OutputKind::delta) arrive on the returned stream; the
    // engine closes it after the output with finished = true, or after an abort. Throws
    // ovllm::Error for a request the engine refuses.
    virtual std::shared_ptr<OutputStream> submit(GenerateRequest request) = 0;
    // Stops a request and frees its resources; unknown or finished ids are ignored.
    virtual void abort(const std::string& request_id) = 0;

    virtual std::vector<int64_t> tokenize(std::string_view text, bool add_special_tokens) = 0;
    virtual std::string detokenize(const std::vector<int64_t>& token_ids) = 0;
    // Renders messages into prompt text. Throws ovllm::Error for messages the template
    // cannot render (its message is returned to the client as a 400).
    virtual std::string apply_chat_template(const ChatTemplateRequest& request) = 0;

    virtual EngineSnapshot stats() = 0;
    virtual ModelInfo model_info() = 0;
    // Empties the prefix cache (POST /reset_prefix_cache); false, changing nothing, while
    // running requests hold KV blocks.
    virtual bool reset_prefix_cache() = 0;
};

}  // namespace ovllm::server
