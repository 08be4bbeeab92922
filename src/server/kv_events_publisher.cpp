#include "server/kv_events_publisher.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <span>

#define MSGPACK_NO_BOOST
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "util/error.hpp"
#include "util/json_flag.hpp"
#include "util/log.hpp"

namespace ovllm::server {
namespace {

constexpr const char* kFlag = "--kv-events-config";

template <typename T>
void read_field(const nlohmann::json& json, const char* key, T& into) {
    const auto found = json.find(key);
    if (found == json.end() || found->is_null()) return;
    try {
        into = found->get<T>();
    } catch (const nlohmann::json::exception&) {
        throw_error("{}: \"{}\" has the wrong type ({})", kFlag, key, found->dump());
    }
}

std::array<uint8_t, 8> big_endian(uint64_t value) {
    std::array<uint8_t, 8> bytes{};
    for (int i = 7; i >= 0; --i) {
        bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(value & 0xFF);
        value >>= 8;
    }
    return bytes;
}

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_str(Packer& pk, std::string_view text) {
    pk.pack_str(static_cast<uint32_t>(text.size()));
    pk.pack_str_body(text.data(), static_cast<uint32_t>(text.size()));
}

void pack_hashes(Packer& pk, const std::vector<kv::BlockHash>& hashes) {
    pk.pack_array(static_cast<uint32_t>(hashes.size()));
    for (const kv::BlockHash hash : hashes) pk.pack_uint64(hash);
}

void pack_event(Packer& pk, const kv::BlockStored& e) {
    pk.pack_map(8);
    pack_str(pk, "type");
    pack_str(pk, "BlockStored");
    pack_str(pk, "block_hashes");
    pack_hashes(pk, e.block_hashes);
    pack_str(pk, "parent_block_hash");
    if (e.parent_block_hash) {
        pk.pack_uint64(*e.parent_block_hash);
    } else {
        pk.pack_nil();
    }
    pack_str(pk, "token_ids");
    pk.pack_array(static_cast<uint32_t>(e.token_ids.size()));
    for (const int64_t token : e.token_ids) pk.pack_int64(token);
    pack_str(pk, "block_size");
    pk.pack_int32(e.block_size);
    // No adapters, and the engine's own cache (vLLM's "GPU" tier for a CPU engine): nil.
    for (const char* key : {"lora_id", "medium", "lora_name"}) {
        pack_str(pk, key);
        pk.pack_nil();
    }
}

void pack_event(Packer& pk, const kv::BlockRemoved& e) {
    pk.pack_map(3);
    pack_str(pk, "type");
    pack_str(pk, "BlockRemoved");
    pack_str(pk, "block_hashes");
    pack_hashes(pk, e.block_hashes);
    pack_str(pk, "medium");
    pk.pack_nil();
}

void pack_event(Packer& pk, const kv::AllBlocksCleared&) {
    pk.pack_map(1);
    pack_str(pk, "type");
    pack_str(pk, "AllBlocksCleared");
}

// vLLM's heuristic: bind when the endpoint is a wildcard or local transport, else connect.
bool binds(const std::string& endpoint) {
    return endpoint.find('*') != std::string::npos || endpoint.find("::") != std::string::npos ||
           endpoint.starts_with("ipc://") || endpoint.starts_with("inproc://");
}

double unix_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

KVEventsConfig parse_kv_events_config(std::string_view text) {
    static constexpr std::array<std::string_view, 8> kKeys = {
        "enable_kv_cache_events", "publisher", "endpoint",       "replay_endpoint",
        "buffer_steps",           "hwm",       "max_queue_size", "topic"};
    const nlohmann::json json = config::parse_flag_object(kFlag, text, kKeys);
    KVEventsConfig config;
    read_field(json, "enable_kv_cache_events", config.enable_kv_cache_events);
    read_field(json, "publisher", config.publisher);
    read_field(json, "endpoint", config.endpoint);
    read_field(json, "replay_endpoint", config.replay_endpoint);
    read_field(json, "buffer_steps", config.buffer_steps);
    read_field(json, "hwm", config.hwm);
    read_field(json, "max_queue_size", config.max_queue_size);
    read_field(json, "topic", config.topic);
    if (config.publisher != "zmq" && config.publisher != "null")
        throw_error("{}: unknown publisher \"{}\" (zmq or null)", kFlag, config.publisher);
    if (config.endpoint.empty()) throw_error("{}: \"endpoint\" is empty", kFlag);
    for (const auto& [key, value] : {std::pair{"buffer_steps", config.buffer_steps},
                                     {"hwm", config.hwm},
                                     {"max_queue_size", config.max_queue_size}}) {
        if (value < 1) throw_error("{}: \"{}\" must be >= 1 (got {})", kFlag, key, value);
    }
    return config;
}

std::string encode_kv_event_batch(double ts, const std::vector<kv::KVCacheEvent>& events,
                                  int data_parallel_rank) {
    msgpack::sbuffer buffer;
    Packer pk(buffer);
    pk.pack_array(3);
    pk.pack_double(ts);
    pk.pack_array(static_cast<uint32_t>(events.size()));
    for (const kv::KVCacheEvent& event : events) {
        std::visit([&](const auto& e) { pack_event(pk, e); }, event);
    }
    pk.pack_int32(data_parallel_rank);
    return {buffer.data(), buffer.size()};
}

// The sockets live on the publisher thread after construction (ZeroMQ sockets are not
// thread-safe); the constructor opens them so a bad endpoint fails at startup.
struct KVEventsPublisher::Sockets {
    zmq::context_t context{1};
    zmq::socket_t pub{context, zmq::socket_type::pub};
    zmq::socket_t replay;
    std::deque<std::pair<uint64_t, std::string>> sent;  // (seq, payload) for replay
};

KVEventsPublisher::KVEventsPublisher(const KVEventsConfig& config)
    : config_(config), sockets_(std::make_unique<Sockets>()) {
    Sockets& s = *sockets_;
    const std::string* opening = &config.endpoint;  // for the error message
    try {
        s.pub.set(zmq::sockopt::sndhwm, config.hwm);
        s.pub.set(zmq::sockopt::linger, 1000);  // ms to flush queued messages at shutdown
        if (binds(config.endpoint)) {
            s.pub.bind(config.endpoint);
        } else {
            s.pub.connect(config.endpoint);
        }
        if (!config.replay_endpoint.empty()) {
            opening = &config.replay_endpoint;
            s.replay = zmq::socket_t(s.context, zmq::socket_type::router);
            s.replay.set(zmq::sockopt::linger, 0);
            s.replay.bind(config.replay_endpoint);
        }
    } catch (const zmq::error_t& error) {
        throw_error("{}: cannot open {}: {}", kFlag, *opening, error.what());
    }
    OVLLM_INFO("Publishing KV cache events on {} (topic \"{}\"{}{})", config.endpoint, config.topic,
               config.replay_endpoint.empty() ? "" : ", replay on ", config.replay_endpoint);
    thread_ = std::thread([this] { run(); });
}

KVEventsPublisher::~KVEventsPublisher() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void KVEventsPublisher::publish(std::vector<kv::KVCacheEvent> events) {
    if (events.empty()) return;
    const double ts = unix_seconds();
    {
        std::lock_guard lock(mutex_);
        const uint64_t seq = next_seq_++;
        if (queue_.size() >= static_cast<size_t>(config_.max_queue_size)) {
            if (num_dropped_++ == 0)
                OVLLM_WARN("KV event queue full ({} batches): dropping batches",
                           config_.max_queue_size);
            return;
        }
        queue_.push_back(Batch{seq, ts, std::move(events)});
    }
    ready_.notify_one();
}

uint64_t KVEventsPublisher::num_dropped() const {
    std::lock_guard lock(mutex_);
    return num_dropped_;
}

namespace {

void serve_replay(zmq::socket_t& replay, const std::deque<std::pair<uint64_t, std::string>>& sent) {
    std::vector<zmq::message_t> request;
    if (!zmq::recv_multipart(replay, std::back_inserter(request), zmq::recv_flags::dontwait))
        return;
    if (request.size() != 3 || request[2].size() != 8) {
        OVLLM_WARN("KV events: ignoring a malformed replay request ({} frames)", request.size());
        return;
    }
    uint64_t start = 0;
    for (const uint8_t byte : std::span(request[2].data<uint8_t>(), 8)) start = start << 8 | byte;
    const std::string identity = request[0].to_string();
    const auto send = [&](const std::array<uint8_t, 8>& seq, std::string_view payload) {
        std::array<zmq::const_buffer, 4> frames = {zmq::buffer(identity),
                                                   zmq::const_buffer(nullptr, 0), zmq::buffer(seq),
                                                   zmq::buffer(payload)};
        zmq::send_multipart(replay, frames);
    };
    for (const auto& [seq, payload] : sent) {
        if (seq >= start) send(big_endian(seq), payload);
    }
    send(big_endian(~uint64_t{0}), {});  // -1: the end of the replay
}

}  // namespace

void KVEventsPublisher::run() {
    Sockets& s = *sockets_;
    const std::string& topic = config_.topic;
    for (;;) {
        std::deque<Batch> batches;
        {
            std::unique_lock lock(mutex_);
            const auto has_work = [&] { return stopping_ || !queue_.empty(); };
            if (s.replay) {
                ready_.wait_for(lock, std::chrono::milliseconds(100), has_work);
            } else {
                ready_.wait(lock, has_work);
            }
            batches.swap(queue_);
            if (batches.empty() && stopping_) break;
        }
        if (s.replay) serve_replay(s.replay, s.sent);
        for (const Batch& batch : batches) {
            std::string payload = encode_kv_event_batch(batch.ts, batch.events, 0);
            const std::array<uint8_t, 8> seq = big_endian(batch.seq);
            std::array<zmq::const_buffer, 3> frames = {zmq::buffer(topic), zmq::buffer(seq),
                                                       zmq::buffer(payload)};
            try {
                zmq::send_multipart(s.pub, frames, zmq::send_flags::dontwait);
            } catch (const zmq::error_t& error) {
                OVLLM_WARN("KV events: sending batch {} failed: {}", batch.seq, error.what());
            }
            if (s.replay) {
                s.sent.emplace_back(batch.seq, std::move(payload));
                if (s.sent.size() > static_cast<size_t>(config_.buffer_steps)) s.sent.pop_front();
            }
        }
    }
}

}  // namespace ovllm::server
