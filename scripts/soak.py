#!/usr/bin/env python3
"""Soak test: a real `ovllm serve` (SmolLM2-135M) under mixed load on loopback for --minutes.

Load: --clients concurrent clients sending streaming and non-streaming completions and chat
completions. Client i is, by i % 3: a disconnector (drops the connection at a random point of
its stream, or soon after sending a non-streaming request), a slow reader (pauses between
stream lines), or a plain client. Besides, one bad request a second (malformed JSON, wrong
field values), each of which must get a 400.

Every minute it prints requests served, unexpected failures (anything but the intended 400s
and disconnects), the server's RSS and thread count (/proc/<pid>/status). At the end, once the
server is idle, it checks:
  - /metrics: vllm:kv_cache_usage_perc is 0 (no KV block in use) and no request running;
  - RSS flat after warm-up (the first third of the run, at most 5 minutes: the KV cache,
    compiled model and allocator arenas reach their size): the mean of the last fifth of the
    post-warm-up samples (every 5 s) exceeds the mean of the first fifth by less than
    --rss-growth-pct percent (default 10: allocator noise is a few percent, a leak under this
    load grows without bound);
  - threads not growing: the most threads seen after warm-up, and the idle count at the end,
    are at most the most seen during warm-up;
  - SIGTERM then stops the server with exit code 0.
It writes a JSON summary (--summary) and exits non-zero if any check or request failed.

Usage: scripts/soak.py [--minutes 30] [--clients 6] [--binary build/ovllm]
                       [--model .models/smollm2-135m] [--summary build/soak-summary.json]
Only the standard library is used (any python3, or .venv-tools/bin/python).
"""
import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_test_util import free_port, start_serve  # noqa: E402

MODEL = "smollm2"
PROMPTS = [
    "The capital of France is",
    "Write a haiku about the sea.",
    "List three prime numbers:",
    "Once upon a time, in a small village,",
    "Explain what a hash table is in one sentence.",
    "def fibonacci(n):",
]
# Bodies that must each get a 400: (description, raw body bytes).
BAD_REQUESTS = [
    ("/v1/completions", "malformed JSON", b'{"prompt": "x", "max_tokens": 4'),
    ("/v1/completions", "not an object", b"[1, 2, 3]"),
    ("/v1/completions", "invalid UTF-8", b'{"prompt": "\xff\xfe", "max_tokens": 4}'),
    ("/v1/completions", "negative max_tokens", b'{"prompt": "x", "max_tokens": -1}'),
    ("/v1/completions", "huge max_tokens", b'{"prompt": "x", "max_tokens": 2147483648}'),
    ("/v1/completions", "temperature as text", b'{"prompt": "x", "temperature": "hot"}'),
    ("/v1/completions", "top_p above 1", b'{"prompt": "x", "top_p": 2.5}'),
    ("/v1/completions", "n of 0", b'{"prompt": "x", "n": 0}'),
    ("/v1/completions", "empty prompt list", b'{"prompt": []}'),
    ("/v1/completions", "token id out of range", b'{"prompt": [999999999], "max_tokens": 2}'),
    ("/v1/chat/completions", "no messages", b'{"max_tokens": 4}'),
    ("/v1/chat/completions", "empty messages", b'{"messages": []}'),
    ("/v1/chat/completions", "unknown role", b'{"messages": [{"role": "wizard", "content": "x"}]}'),
    ("/v1/chat/completions", "null user content", b'{"messages": [{"role": "user", "content": null}]}'),
    ("/v1/chat/completions", "beam search", b'{"messages": [{"role": "user", "content": "x"}], "use_beam_search": true}'),
]


class Stats:
    """Counters shared by the client threads; one bucket per minute."""

    def __init__(self):
        self.lock = threading.Lock()
        self.minutes = []  # per minute: {"served", "failed", "disconnected", "bad_400", ...}
        self.failures = []  # (time, what) of the first unexpected failures

    def bucket(self):
        if not self.minutes:
            self.new_minute()
        return self.minutes[-1]

    def new_minute(self):
        with self.lock:
            self.minutes.append({"served": 0, "failed": 0, "disconnected": 0, "bad_400": 0})

    def add(self, key, failure=None):
        with self.lock:
            self.bucket()[key] += 1
            if failure and len(self.failures) < 50:
                self.failures.append(failure)
                print(f"FAIL: {failure}", flush=True)


def request_body(rng, chat, stream):
    body = {"model": MODEL, "max_tokens": rng.randint(8, 48), "temperature": rng.choice([0, 0.7, 1.0]),
            "stream": stream}
    prompt = rng.choice(PROMPTS)
    if chat:
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
        if not stream and rng.random() < 0.2:
            body["n"] = 2
    return body


def check_whole(response, chat):
    """A non-streaming reply: 200 with the expected choices; returns an error or None."""
    data = response.read()
    if response.status != 200:
        return f"status {response.status}: {data[:200]!r}"
    reply = json.loads(data)
    for choice in reply["choices"]:
        text = choice["message"]["content"] if chat else choice["text"]
        if not isinstance(text, str) or choice["finish_reason"] not in ("stop", "length"):
            return f"bad choice {choice}"
    return None


def read_stream(response, pause_s, drop_after):
    """Reads SSE lines; returns ("done" | "dropped", error or None)."""
    if response.status != 200:
        return "done", f"status {response.status}: {response.read()[:200]!r}"
    events = 0
    while True:
        line = response.fp.readline()
        if not line:
            return "done", "stream ended without [DONE]"
        line = line.strip()
        if not line.startswith(b"data: "):
            continue
        if line == b"data: [DONE]":
            return "done", None
        json.loads(line[6:])
        events += 1
        if drop_after is not None and events >= drop_after:
            return "dropped", None
        if pause_s:
            time.sleep(pause_s)


def client_loop(index, port, stop, stats):
    rng = random.Random(index)
    role = ("disconnector", "slow reader", "plain")[index % 3]
    while not stop.is_set():
        chat = rng.random() < 0.5
        stream = rng.random() < (0.75 if role == "disconnector" else 0.5)
        body = request_body(rng, chat, stream)
        path = "/v1/chat/completions" if chat else "/v1/completions"
        what = f"client {index} ({role}) {path} stream={stream}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            if role == "disconnector" and not stream:
                time.sleep(rng.uniform(0.05, 1.0))  # the server is generating; drop it
                stats.add("disconnected")
                continue
            response = conn.getresponse()
            if not stream:
                error = check_whole(response, chat)
            else:
                drop = rng.randint(1, body["max_tokens"]) if role == "disconnector" else None
                pause = rng.uniform(0.05, 0.3) if role == "slow reader" else 0
                outcome, error = read_stream(response, pause, drop)
                if outcome == "dropped":
                    stats.add("disconnected")
                    continue
            if error:
                stats.add("failed", f"{time.strftime('%H:%M:%S')} {what}: {error}")
            else:
                stats.add("served")
        except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
            if not stop.is_set():
                stats.add("failed", f"{time.strftime('%H:%M:%S')} {what}: {type(e).__name__}: {e}")
        finally:
            conn.close()


def bad_request_loop(port, stop, stats):
    rng = random.Random(1234)
    while not stop.wait(1.0):
        path, what, body = rng.choice(BAD_REQUESTS)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            reply = response.read()
            if response.status == 400 and json.loads(reply)["error"]["message"]:
                stats.add("bad_400")
            else:
                stats.add("failed", f"bad request '{what}': status {response.status} {reply[:200]!r}")
        except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
            stats.add("failed", f"bad request '{what}': {type(e).__name__}: {e}")
        finally:
            conn.close()


def proc_status(pid):
    """(RSS in MiB, thread count) of a live process."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def metrics(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    values = {}
    for name in ("vllm:kv_cache_usage_perc", "vllm:num_requests_running", "vllm:num_requests_waiting"):
        match = re.search(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.M)
        values[name] = float(match.group(1)) if match else None
    return values


def drain(stream, path):
    """Copies the server's log to a file so its pipe never fills and blocks the server."""
    with open(path, "wb") as out:
        for line in stream:
            out.write(line)


def mean(values):
    return sum(values) / len(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--binary", default=os.environ.get("OVLLM_BINARY", "build/ovllm"))
    parser.add_argument("--model", default=os.path.join(os.environ.get("OVLLM_MODELS_DIR", ".models"),
                                                        "smollm2-135m"))
    parser.add_argument("--summary", default="build/soak-summary.json")
    parser.add_argument("--rss-growth-pct", type=float, default=10.0)
    args = parser.parse_args()

    os.makedirs(os.path.dirname(os.path.abspath(args.summary)), exist_ok=True)
    port = free_port()
    command = [args.binary, "serve", args.model, "--port", str(port), "--served-model-name", MODEL,
               "--kv-cache-space", "0.5", "--max-model-len", "2048"]
    server = start_serve(command, port)
    log_path = os.path.splitext(args.summary)[0] + ".server.log"
    threading.Thread(target=drain, args=(server.stderr, log_path), daemon=True).start()
    startup_rss, startup_threads = proc_status(server.pid)
    print(f"serving on port {port}, pid {server.pid}: RSS {startup_rss:.0f} MiB, {startup_threads} threads "
          f"(server log: {log_path})", flush=True)

    stats, stop = Stats(), threading.Event()
    stats.new_minute()
    workers = [threading.Thread(target=client_loop, args=(i, port, stop, stats)) for i in range(args.clients)]
    workers.append(threading.Thread(target=bad_request_loop, args=(port, stop, stats)))
    for w in workers:
        w.start()

    warmup_s = min(5.0, args.minutes / 3) * 60
    samples = []  # (seconds since start, RSS MiB, threads)
    start, report = time.time(), []
    next_minute = start + 60
    server_died = False
    while (now := time.time()) < start + args.minutes * 60:
        time.sleep(min(5.0, start + args.minutes * 60 - now))
        if server.poll() is not None:
            server_died = True
            print(f"FAIL: the server exited with {server.returncode}", flush=True)
            break
        samples.append((time.time() - start, *proc_status(server.pid)))
        if time.time() >= next_minute - 0.5 or time.time() >= start + args.minutes * 60:
            bucket = dict(stats.minutes[-1], minute=len(report) + 1, rss_mib=round(samples[-1][1], 1),
                          threads=samples[-1][2])
            report.append(bucket)
            print(f"minute {bucket['minute']:3}: served {bucket['served']:5}  failed {bucket['failed']:3}  "
                  f"disconnected {bucket['disconnected']:4}  bad->400 {bucket['bad_400']:3}  "
                  f"RSS {bucket['rss_mib']:7.1f} MiB  threads {bucket['threads']}", flush=True)
            stats.new_minute()
            next_minute += 60
    stop.set()
    for w in workers:
        w.join(timeout=150)

    summary = {"minutes": args.minutes, "clients": args.clients, "per_minute": report,
               "startup_rss_mib": round(startup_rss, 1), "startup_threads": startup_threads,
               "failures": stats.failures, "server_log": log_path}
    checks = {"server_alive": not server_died}
    if not server_died:
        # Idle: every request finished or aborted; wait until the engine says so.
        deadline, idle = time.time() + 60, {}
        while time.time() < deadline:
            idle = metrics(port)
            if idle["vllm:num_requests_running"] == 0 and idle["vllm:num_requests_waiting"] == 0 \
                    and idle["vllm:kv_cache_usage_perc"] == 0:
                break
            time.sleep(1)
        time.sleep(2)  # connections of the last requests close
        idle_rss, idle_threads = proc_status(server.pid)
        summary.update(idle_metrics=idle, idle_rss_mib=round(idle_rss, 1), idle_threads=idle_threads)
        checks["kv_blocks_in_use_0"] = idle["vllm:kv_cache_usage_perc"] == 0
        checks["no_request_running"] = idle["vllm:num_requests_running"] == 0

        warm = [s for s in samples if s[0] <= warmup_s] or samples[:1]
        after = [s for s in samples if s[0] > warmup_s]
        fifth = max(1, len(after) // 5)
        if after:
            first, last = mean([s[1] for s in after[:fifth]]), mean([s[1] for s in after[-fifth:]])
            growth_pct = 100 * (last - first) / first
            summary["rss"] = {"warmup_s": warmup_s, "post_warmup_first_fifth_mib": round(first, 1),
                              "post_warmup_last_fifth_mib": round(last, 1), "growth_pct": round(growth_pct, 2),
                              "limit_pct": args.rss_growth_pct}
            checks["rss_flat_after_warmup"] = growth_pct < args.rss_growth_pct
            warm_threads = max(s[2] for s in warm)
            summary["threads"] = {"warmup_max": warm_threads, "post_warmup_max": max(s[2] for s in after),
                                  "idle_end": idle_threads}
            checks["threads_not_growing"] = max(s[2] for s in after) <= warm_threads \
                and idle_threads <= warm_threads
    totals = {key: sum(m[key] for m in stats.minutes) for key in ("served", "failed", "disconnected", "bad_400")}
    summary["totals"] = totals
    checks["no_unexpected_failures"] = totals["failed"] == 0
    checks["requests_served"] = totals["served"] > 0
    server.terminate()  # SIGTERM: drains (nothing is left in flight) and exits 0
    try:
        summary["exit_code"] = server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        summary["exit_code"] = None
    checks["clean_exit"] = summary["exit_code"] == 0
    summary["checks"] = checks
    with open(args.summary, "w") as f:
        json.dump(summary, f, indent=2)
    print(f"totals: {totals}")
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    print(f"summary: {args.summary}")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
