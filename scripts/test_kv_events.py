"""`ovllm serve --kv-events-config` decoded with the official `msgpack` and `pyzmq` packages.

Starts SmolLM2-135M with prefix caching and a ZMQ KV-event publisher on a free loopback
port, subscribes, sends prompts and checks every message against vLLM's event classes
(vllm/distributed/kv_events.py: KVEventBatch, BlockStored, BlockRemoved, AllBlocksCleared,
msgspec tagged structs) and against what vllm-router's kv_aware index computes:

- frames: [topic, seq as 8 bytes big-endian counting from 0 without gaps, msgpack payload];
- payload: [ts (float, Unix seconds), [event...], data_parallel_rank (0)];
- each event a map tagged by "type" holding exactly vLLM's required fields in order;
- BlockStored: block_size 32 tokens per hash, token_ids equal to the prompt's tokens from
  /tokenize, parents chaining each stored run to a hash stored before it;
- router agreement: vllm-router 0.1.17 keys its index by, per block, the SHA-256 of the
  block's token ids as little-endian u32 (src/kv_index: local_hashes); computed from the
  published token_ids and from the prompt's own tokens the keys must be the same, and the
  engine hashes it anchors by (block_hashes / parent_block_hash) must be consistent;
- BlockRemoved only names hashes stored before (a small cache forces evictions);
- POST /reset_prefix_cache publishes AllBlocksCleared at once, and the cache really forgot:
  a prompt sent again is stored again under the same hashes instead of hitting;
- /v1/completions/render and /v1/chat/completions/render, where the router gets a request's
  token ids, give those of /tokenize.

Environment: OVLLM_BINARY, OVLLM_MODELS_DIR. Exits non-zero on a failed check.
"""
import hashlib
import json
import struct
import sys
import time
import urllib.error
import urllib.request

import msgpack
import zmq

from serve_test_util import FAILURES, check, free_port, serve_command, start_serve

BLOCK_SIZE = 32

# vLLM's field order (msgspec encodes the tag, then the fields in definition order;
# omit_defaults drops the trailing fields that have defaults).
BLOCK_STORED_FIELDS = ["type", "block_hashes", "parent_block_hash", "token_ids", "block_size",
                       "lora_id", "medium", "lora_name"]
BLOCK_REMOVED_FIELDS = ["type", "block_hashes", "medium"]


def post(port, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as r:
        return json.loads(r.read())


def post_status(port, path):
    """POSTs an empty body; the HTTP status."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as error:
        return error.code


def start_server(port, events_port, topic):
    config = {"enable_kv_cache_events": True, "publisher": "zmq",
              "endpoint": f"tcp://*:{events_port}", "topic": topic}
    # About 24 blocks of 32 tokens (1.5 MB each in f32 for this model: 30 layers x 3 KV heads
    # x 64 x 2 x 4 bytes x 32): small enough that the fillers evict the first prompts.
    command = serve_command("smollm2-135m", port, "smol", "--kv-cache-dtype", "f32",
                            "--kv-cache-space", "0.036", "--max-model-len", "512",
                            "--enable-prefix-caching", "--kv-events-config", json.dumps(config))
    return start_serve(command, port)


def router_keys(token_ids):
    """vllm-router's per-block index key: SHA-256 over the block's ids as u32 LE, full blocks."""
    full = len(token_ids) // BLOCK_SIZE * BLOCK_SIZE
    return [hashlib.sha256(struct.pack(f"<{BLOCK_SIZE}I", *token_ids[i:i + BLOCK_SIZE]))
            .hexdigest() for i in range(0, full, BLOCK_SIZE)]


def receive(sub, expected_topic, until):
    """Every message until `until` (Unix seconds) or 1 s of silence after the first."""
    messages = []
    while time.time() < until:
        if not sub.poll(1000):
            if messages:
                break
            continue
        frames = sub.recv_multipart()
        check(len(frames) == 3, f"3 frames per message (got {len(frames)})")
        check(frames[0] == expected_topic, f"topic frame {frames[0]!r}")
        check(len(frames[1]) == 8, "seq is 8 bytes")
        messages.append((int.from_bytes(frames[1], "big"),
                         msgpack.unpackb(frames[2], raw=False, strict_map_key=True)))
    return messages


def check_batch(batch, before, after):
    check(isinstance(batch, list) and len(batch) == 3, f"batch is [ts, events, rank]: {batch!r}")
    ts, events, rank = batch
    check(isinstance(ts, float) and before - 1 <= ts <= after + 1, f"ts {ts} is Unix seconds")
    check(rank == 0, "data_parallel_rank 0")
    check(isinstance(events, list) and events, "a batch carries events")
    for event in events:
        check(isinstance(event, dict), f"event is a tagged map: {event!r}")
        kind = event.get("type")
        if kind == "BlockStored":
            check(list(event) == BLOCK_STORED_FIELDS, f"BlockStored fields {list(event)}")
            check(event["block_size"] == BLOCK_SIZE, "block_size 32")
            check(len(event["token_ids"]) == BLOCK_SIZE * len(event["block_hashes"]),
                  "token_ids cover the stored blocks exactly")
            check(all(isinstance(h, int) and 0 <= h < 2**64 for h in event["block_hashes"]),
                  "block hashes are u64")
            check(event["lora_id"] is None and event["medium"] is None
                  and event["lora_name"] is None, "no adapter, engine's own medium")
        elif kind == "BlockRemoved":
            check(list(event) == BLOCK_REMOVED_FIELDS, f"BlockRemoved fields {list(event)}")
        else:
            check(kind == "AllBlocksCleared" and list(event) == ["type"], f"event {event!r}")
    return events


def replay_index(events, stored, removed):
    """Follows the stream as the router's index does; returns each stored hash's key."""
    for event in events:
        if event["type"] == "BlockStored":
            parent = event["parent_block_hash"]
            check(parent is None or parent in stored,
                  "a stored run's parent was stored before it")
            keys = router_keys(event["token_ids"])
            for h, key in zip(event["block_hashes"], keys):
                check(h not in stored or stored[h] == key, "one hash names one content")
                stored[h] = key
        elif event["type"] == "BlockRemoved":
            for h in event["block_hashes"]:
                check(h in stored, "a removed hash was stored before")
                removed.add(h)
        else:
            stored.clear()


def main():
    port, events_port = free_port(), free_port()
    topic = "kv-events"
    server = start_server(port, events_port, topic)
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.connect(f"tcp://127.0.0.1:{events_port}")
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    time.sleep(0.5)  # let the subscription reach the publisher before the first step
    try:
        prompts = [" ".join(f"{w} number {i}" for i in range(40)) for w in ("apple", "river")]
        prompts += [p + " and then some more words" for p in prompts]
        tokens = [post(port, "/tokenize", {"model": "smol", "prompt": p})["tokens"]
                  for p in prompts]
        # The render endpoints (what vllm-router's kv_aware asks for) give the same ids.
        rendered = post(port, "/v1/completions/render", {"model": "smol", "prompt": prompts[0]})
        check(rendered == [{"token_ids": tokens[0]}], "/v1/completions/render = /tokenize")
        chat = {"model": "smol", "messages": [{"role": "user", "content": prompts[1]}]}
        check(post(port, "/v1/chat/completions/render", chat)
              == [{"token_ids": post(port, "/tokenize", chat)["tokens"]}],
              "/v1/chat/completions/render = /tokenize of the chat")
        before = time.time()
        for p in prompts[:2]:
            post(port, "/v1/completions", {"model": "smol", "prompt": p, "max_tokens": 1})
        first = receive(sub, topic.encode(), time.time() + 30)
        # Enough other text to need every block again: evicts the first prompts' blocks.
        for i in range(3):
            filler = " ".join(f"filler{i} token {j}" for j in range(60))
            post(port, "/v1/completions", {"model": "smol", "prompt": filler, "max_tokens": 1})
        for p in prompts[2:]:
            post(port, "/v1/completions", {"model": "smol", "prompt": p, "max_tokens": 1})
        second = receive(sub, topic.encode(), time.time() + 30)
        reset_status = post_status(port, "/reset_prefix_cache")
        cleared = receive(sub, topic.encode(), time.time() + 30)
        post(port, "/v1/completions", {"model": "smol", "prompt": prompts[2], "max_tokens": 1})
        third = receive(sub, topic.encode(), time.time() + 30)
        after = time.time()
    finally:
        server.terminate()
        server.wait(timeout=60)

    check(reset_status == 200, f"POST /reset_prefix_cache answers 200 when idle ({reset_status})")
    check([[e["type"] for e in b[1]] for _, b in cleared] == [["AllBlocksCleared"]],
          "the reset publishes one AllBlocksCleared at once")
    messages = first + second + cleared + third
    check(len(messages) >= 2, f"messages received ({len(messages)})")
    seqs = [seq for seq, _ in messages]
    check(seqs == list(range(len(seqs))), f"seq counts 0, 1, 2, ... without gaps: {seqs}")
    stored, removed = {}, set()
    all_events = []
    for _, batch in messages:
        events = check_batch(batch, before, after)
        all_events += events
        replay_index(events, stored, removed)
    kinds = [e["type"] for e in all_events]
    check(kinds[0] == "AllBlocksCleared", "the stream starts with AllBlocksCleared")
    check("BlockRemoved" in kinds, "the small cache evicted blocks")

    # The router keys of each prompt, from its own tokens, are all published and chained:
    # following block_hashes by content must give exactly the prompt's full blocks.
    first_run = {}
    for e in all_events:
        if e["type"] == "BlockStored" and e["parent_block_hash"] is None:
            first_run.setdefault(router_keys(e["token_ids"])[0], e)
    for prompt_tokens in tokens[:2]:
        keys = router_keys(prompt_tokens)
        check(len(keys) >= 2, "the prompt spans at least two full blocks")
        event = first_run.get(keys[0])
        check(event is not None, "the prompt's first block was stored as a chain start")
        if event is not None:
            published = router_keys(event["token_ids"])
            check(published == keys[:len(published)],
                  "router keys from published token_ids equal those of the prompt's tokens")
            check(event["token_ids"] == prompt_tokens[:len(event["token_ids"])],
                  "published token_ids are the prompt's tokens")
    # The longer prompts share the first ones' prefix; after eviction they are stored again
    # with the same engine hashes (the hash names the content, not the block).
    stored_again = {h for _, b in second for e in b[1] if e["type"] == "BlockStored"
                    for h in e["block_hashes"]}
    check(bool(removed & stored_again), "an evicted prefix stored again keeps its hash")

    # After the reset the same prompt is stored again, under the hashes it had: nothing hit.
    restored = [h for _, b in third for e in b[1] if e["type"] == "BlockStored"
                for h in e["block_hashes"]]
    check(len(restored) == len(tokens[2]) // BLOCK_SIZE and set(restored) <= stored_again,
          f"after the reset the prompt's {len(tokens[2]) // BLOCK_SIZE} full blocks are stored "
          f"again with the same hashes ({len(restored)} stored)")

    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print(f"all KV event checks passed ({len(messages)} messages, {len(all_events)} events: "
          f"{kinds.count('BlockStored')} stored, {kinds.count('BlockRemoved')} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
