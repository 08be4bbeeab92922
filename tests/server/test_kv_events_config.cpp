// --kv-events-config parsing (vLLM's JSON keys) and the msgpack batch layout.
#include <gtest/gtest.h>

#define MSGPACK_NO_BOOST
#include <msgpack.hpp>

#include "server/kv_events_publisher.hpp"
#include "util/error.hpp"

namespace ovllm::server {
namespace {

TEST(KVEventsConfig, ReadsVllmKeysAndKeepsDefaults) {
    const KVEventsConfig c = parse_kv_events_config(
        R"({"enable_kv_cache_events": true, "publisher": "zmq", "endpoint": "tcp://*:5600",
            "topic": "kv-events"})");
    EXPECT_TRUE(c.enable_kv_cache_events);
    EXPECT_EQ(c.endpoint, "tcp://*:5600");
    EXPECT_EQ(c.topic, "kv-events");
    EXPECT_EQ(c.replay_endpoint, "");
    EXPECT_EQ(c.buffer_steps, 10000);
    EXPECT_EQ(c.hwm, 100000);
}

TEST(KVEventsConfig, RejectsWhatItCannotUseWithTheKeyNamed) {
    const auto message = [](const char* json) {
        try {
            parse_kv_events_config(json);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message("{").find("--kv-events-config: not valid JSON"), std::string::npos);
    EXPECT_NE(
        message(R"({"enable_kv_cache_event": true})").find("unknown key \"enable_kv_cache_event\""),
        std::string::npos);
    EXPECT_NE(message(R"({"publisher": "nats"})").find("unknown publisher \"nats\""),
              std::string::npos);
    EXPECT_NE(message(R"({"hwm": 0})").find("\"hwm\" must be >= 1"), std::string::npos);
    EXPECT_NE(message(R"({"topic": 5})").find("\"topic\" has the wrong type"), std::string::npos);
}

TEST(KVEventsEncoding, BatchIsTsEventsRankWithTaggedMapEvents) {
    const std::vector<kv::KVCacheEvent> events = {
        kv::AllBlocksCleared{},
        kv::BlockStored{{0xFFFFFFFFFFFFFFFFULL}, 7, std::vector<int64_t>(4, 3), 4},
        kv::BlockRemoved{{1, 2}}};
    const std::string bytes = encode_kv_event_batch(12.5, events, 0);
    const msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size());
    const msgpack::object& batch = handle.get();
    ASSERT_EQ(batch.type, msgpack::type::ARRAY);
    ASSERT_EQ(batch.via.array.size, 3u);
    EXPECT_EQ(batch.via.array.ptr[0].as<double>(), 12.5);
    EXPECT_EQ(batch.via.array.ptr[2].as<int>(), 0);
    const msgpack::object& list = batch.via.array.ptr[1];
    ASSERT_EQ(list.via.array.size, 3u);
    const auto map_of = [&](size_t i) { return list.via.array.ptr[i].via.map; };
    const auto key = [](const msgpack::object_map& m, size_t i) {
        return m.ptr[i].key.as<std::string>();
    };
    EXPECT_EQ(map_of(0).size, 1u);
    EXPECT_EQ(map_of(0).ptr[0].val.as<std::string>(), "AllBlocksCleared");
    const msgpack::object_map stored = map_of(1);
    ASSERT_EQ(stored.size, 8u);
    const std::vector<std::string> fields = {"type",      "block_hashes", "parent_block_hash",
                                             "token_ids", "block_size",   "lora_id",
                                             "medium",    "lora_name"};
    for (size_t i = 0; i < fields.size(); ++i) EXPECT_EQ(key(stored, i), fields[i]);
    EXPECT_EQ(stored.ptr[1].val.as<std::vector<uint64_t>>(),
              std::vector<uint64_t>{0xFFFFFFFFFFFFFFFFULL});
    EXPECT_EQ(stored.ptr[2].val.as<uint64_t>(), 7u);
    EXPECT_EQ(stored.ptr[3].val.as<std::vector<int64_t>>(), std::vector<int64_t>(4, 3));
    EXPECT_EQ(stored.ptr[4].val.as<int>(), 4);
    EXPECT_TRUE(stored.ptr[7].val.is_nil());
    const msgpack::object_map removed = map_of(2);
    ASSERT_EQ(removed.size, 3u);
    EXPECT_EQ(removed.ptr[0].val.as<std::string>(), "BlockRemoved");
    EXPECT_EQ(removed.ptr[1].val.as<std::vector<uint64_t>>(), (std::vector<uint64_t>{1, 2}));
}

}  // namespace
}  // namespace ovllm::server
