"""Multi-turn chat through a router: each conversation resends its whole history every turn,
so a replica that served the previous turn holds most of the prompt in its prefix cache.

  scripts/bench_multiturn.py --router http://127.0.0.1:8000 --replicas URL URL ... \
      [--conversations 8] [--turns 4] [--concurrency 4] [--max-tokens 32]

Reports the prefix-cache hit rate over all replicas (vllm:prefix_cache_hits_total /
vllm:prefix_cache_queries_total, deltas over the run, read with the Prometheus client's
parser), mean and median TTFT (streamed chat completions, time to the first content chunk),
and output and total tokens/s. Test tooling (.venv-tools): ovllm never runs Python.
"""
import argparse
import json
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

TOPICS = ["sailing", "baking bread", "astronomy", "chess openings", "beekeeping", "pottery",
          "mountain hiking", "jazz history", "gardening", "photography", "cycling", "origami"]


def counters(url):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in ("vllm:prefix_cache_hits_total", "vllm:prefix_cache_queries_total",
                               "vllm:prompt_tokens_total", "vllm:generation_tokens_total"):
                values[sample.name] = values.get(sample.name, 0) + sample.value
    return values


def chat_turn(router, model, messages, max_tokens):
    body = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0,
            "stream": True, "stream_options": {"include_usage": True}}
    request = urllib.request.Request(router + "/v1/chat/completions",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    ttft, text, usage = None, [], {}
    with urllib.request.urlopen(request, timeout=600) as r:
        for line in r:
            line = line.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices", []):
                piece = choice.get("delta", {}).get("content")
                if piece:
                    ttft = ttft if ttft is not None else time.perf_counter() - start
                    text.append(piece)
            usage = chunk.get("usage") or usage
    return ttft, "".join(text), usage


def conversation(args, index, ttfts, totals, lock):
    topic = TOPICS[index % len(TOPICS)]
    messages = [{"role": "system",
                 "content": f"You are a patient expert on {topic}. Conversation {index}. " +
                 " ".join(f"Keep in mind point {i} about {topic}." for i in range(40))}]
    for turn in range(args.turns):
        messages.append({"role": "user", "content": f"Tell me one more thing about {topic} "
                         f"(question {turn + 1})."})
        ttft, text, usage = chat_turn(args.router, args.model, messages, args.max_tokens)
        messages.append({"role": "assistant", "content": text})
        with lock:
            if ttft is not None:
                ttfts.append(ttft)
            totals["prompt"] += usage.get("prompt_tokens", 0)
            totals["output"] += usage.get("completion_tokens", 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--router", required=True)
    parser.add_argument("--replicas", nargs="+", required=True)
    parser.add_argument("--model", default="smol")
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    before = [counters(u) for u in args.replicas]
    ttfts, totals, lock = [], {"prompt": 0, "output": 0}, threading.Lock()
    start = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(lambda i: conversation(args, i, ttfts, totals, lock),
                      range(args.conversations)))
    elapsed = time.perf_counter() - start
    after = [counters(u) for u in args.replicas]
    delta = {k: sum(a.get(k, 0) - b.get(k, 0) for a, b in zip(after, before))
             for k in ("vllm:prefix_cache_hits_total", "vllm:prefix_cache_queries_total")}
    hit = delta["vllm:prefix_cache_hits_total"] / max(1, delta["vllm:prefix_cache_queries_total"])
    result = {"label": args.label, "requests": len(ttfts), "seconds": round(elapsed, 1),
              "prefix_cache_hit_rate": round(hit, 3),
              "mean_ttft_ms": round(1000 * statistics.mean(ttfts), 1),
              "median_ttft_ms": round(1000 * statistics.median(ttfts), 1),
              "output_tok_s": round(totals["output"] / elapsed, 2),
              "total_tok_s": round((totals["output"] + totals["prompt"]) / elapsed, 2)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
