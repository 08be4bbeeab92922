#pragma once
// Publishes the engine's prefix-cache events over ZeroMQ the way vLLM's ZmqEventPublisher
// does, so KV-aware routers (vllm-router --policy kv_aware) can follow each replica's cache.
//
// Wire format, one message per engine step that changed the cache:
//   multipart [topic, seq, payload]
//     topic    the configured topic's bytes ("" by default, as vLLM)
//     seq      8 bytes, big-endian unsigned, 0, 1, 2, ... per publisher; a batch dropped
//              because the queue was full leaves a gap, which subscribers detect
//     payload  msgpack KVEventBatch: [ts, [event, ...], data_parallel_rank]
//              ts: float64 seconds since the Unix epoch; data_parallel_rank: 0
//   event    msgspec's tagged struct, as a map whose first key is "type":
//     {"type": "BlockStored", "block_hashes": [u64...], "parent_block_hash": u64 | nil,
//      "token_ids": [int...], "block_size": int, "lora_id": nil, "medium": nil,
//      "lora_name": nil}
//     {"type": "BlockRemoved", "block_hashes": [u64...], "medium": nil}
//     {"type": "AllBlocksCleared"}
//   Fields vLLM gives defaults (extra_keys, group_idx, ...) are omitted, as msgspec's
//   omit_defaults does. A replay ROUTER socket (replay_endpoint) answers a request
//   [identity, "", start_seq(8 bytes)] with every buffered [identity, "", seq, payload] from
//   start_seq on, then [identity, "", -1 (8 bytes), ""], as vLLM's does.
//
// publish() only moves the events into a queue; encoding and sending happen on the
// publisher's own thread, so an engine step never waits on the network.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kv_cache/kv_events.hpp"
#include "ovllm/config.hpp"

namespace ovllm::server {

// Parses vLLM's --kv-events-config JSON. Throws ovllm::Error naming the flag and the bad
// key or value.
KVEventsConfig parse_kv_events_config(std::string_view json);

// The msgpack payload of one batch (see the format above).
std::string encode_kv_event_batch(double ts, const std::vector<kv::KVCacheEvent>& events,
                                  int data_parallel_rank);

class KVEventsPublisher {
  public:
    // Opens the sockets (binds or connects as vLLM decides from the endpoint) and starts
    // the thread. Throws ovllm::Error naming the endpoint when ZeroMQ refuses it.
    explicit KVEventsPublisher(const KVEventsConfig& config);
    ~KVEventsPublisher();  // sends what is queued (up to the socket linger), then stops
    KVEventsPublisher(const KVEventsPublisher&) = delete;
    KVEventsPublisher& operator=(const KVEventsPublisher&) = delete;

    // Queues one step's events as one batch; an empty list is not published. Never blocks
    // on the network: a full queue drops the batch (counted, and a gap in seq).
    void publish(std::vector<kv::KVCacheEvent> events);

    uint64_t num_dropped() const;

  private:
    struct Batch {
        uint64_t seq = 0;
        double ts = 0.0;
        std::vector<kv::KVCacheEvent> events;
    };
    struct Sockets;

    void run();

    KVEventsConfig config_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Batch> queue_;
    uint64_t next_seq_ = 0;
    uint64_t num_dropped_ = 0;
    bool stopping_ = false;
    std::unique_ptr<Sockets> sockets_;
    std::thread thread_;
};

}  // namespace ovllm::server
