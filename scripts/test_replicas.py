"""Two `ovllm serve` replicas behind vllm-router (round_robin), started by
scripts/serve-replicas.sh --restart, on SmolLM2-135M with one thread each.

1. 40 requests through the router are spread over both replicas: each replica's
   vllm:request_success_total (read with the official Prometheus parser) counts its share,
   and the shares add up to 40, at most 2 apart.
2. 40 more, 4 at a time; after the 10th finishes, replica 1 is killed (SIGKILL). Only
   requests outstanding at that moment may fail; every request sent after it succeeds
   (the router retries on, and routes to, the live replica).
3. The script restarts replica 1; the router's health check takes it back, and requests
   reach it again (its fresh counter moves).
4. A rolling restart: while 48-token streams run on both replicas, replica 0 gets SIGTERM.
   It drains: every stream, its own included, ends with all 48 tokens and [DONE]; requests
   sent during the drain all succeed; its log shows no request received between the
   shutdown line and its restart, so the router sent it nothing new; it exits 0, and the
   script brings it back.

Environment: OVLLM_BINARY, OVLLM_MODELS_DIR. Exits non-zero on a failed check.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
    print(("ok: " if condition else "FAIL: ") + what, flush=True)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def complete(port, i):
    body = {"model": "smol", "prompt": f"Request {i}: the weather today is", "max_tokens": 8,
            "temperature": 0}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status == 200 and bool(json.loads(r.read())["choices"])
    except (urllib.error.URLError, OSError, ValueError):
        return False


def stream(port, i):
    """A 48-token streamed completion; True when every token and [DONE] arrive."""
    body = {"model": "smol", "prompt": f"Story {i}: once upon a time", "max_tokens": 48,
            "temperature": 0, "ignore_eos": True, "stream": True,
            "stream_options": {"include_usage": True}}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    tokens, done = None, False
    try:
        with urllib.request.urlopen(request, timeout=180) as r:
            for raw in r:
                line = raw.decode().strip()
                if line == "data: [DONE]":
                    done = True
                elif line.startswith("data: ") and json.loads(line[6:]).get("usage"):
                    tokens = json.loads(line[6:])["usage"]["completion_tokens"]
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return done and tokens == 48


def metric(port, name):
    """The sum of one /metrics series of a replica; None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples if sample.name == name)


def successes(port):
    """Finished requests of one replica; None when it does not answer."""
    total = metric(port, "vllm:request_success_total")
    return None if total is None else int(total)


def main():
    router_port, base = free_ports(2)
    ports = [base, base + 1]
    run_dir = tempfile.mkdtemp(prefix="ovllm-replicas-test.")
    model = os.path.join(os.environ.get("OVLLM_MODELS_DIR", ".models"), "smollm2-135m")
    # Health checks every second, one failure marks a worker down and one success up again;
    # the circuit breaker off so that only health decides (a restart comes back in seconds).
    router_args = ("--health-check-interval-secs 1 --health-failure-threshold 1 "
                   "--health-success-threshold 1 --disable-circuit-breaker")
    script = subprocess.Popen(
        ["scripts/serve-replicas.sh", model, "--replicas", "2", "--threads-per-replica", "1",
         "--router-port", str(router_port), "--base-port", str(base), "--run-dir", run_dir,
         "--restart", "--router-args", router_args, "--", "--served-model-name", "smol",
         "--dtype", "f32", "--kv-cache-space", "0.2", "--max-model-len", "512",
         "--shutdown-timeout", "120"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while not os.path.exists(os.path.join(run_dir, "ready")):
            if script.poll() is not None or time.time() > deadline:
                sys.exit("serve-replicas.sh did not start: " + (script.stderr.read() or ""))
            time.sleep(0.5)
        run_checks(router_port, ports, run_dir)
    finally:
        script.send_signal(signal.SIGTERM)
        try:
            script.wait(timeout=60)
        except subprocess.TimeoutExpired:
            script.kill()
    for name in sorted(os.listdir(run_dir)):
        if name.endswith(".pid"):
            pid = int(open(os.path.join(run_dir, name)).read())
            check(not os.path.exists(f"/proc/{pid}") or
                  open(f"/proc/{pid}/stat").read().split()[2] == "Z",
                  f"{name[:-4]} (pid {pid}) stopped with the script")
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all replica checks passed")
    return 0


def run_checks(router_port, ports, run_dir):
    # 1. Round robin over both.
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: complete(router_port, i), range(40)))
    check(all(results), f"40 requests through the router succeed ({sum(results)})")
    counts = [successes(p) for p in ports]
    check(sum(counts) == 40 and abs(counts[0] - counts[1]) <= 2,
          f"round_robin spreads 40 requests over both replicas: {counts}")

    # 2. Kill replica 1 after the 10th of 40 finishes.
    lock = threading.Lock()
    outstanding, finished, outcome = set(), [0], {}
    at_kill = None
    killed = threading.Event()
    victim = int(open(os.path.join(run_dir, "replica-1.pid")).read())

    def one(i):
        nonlocal at_kill
        with lock:
            outstanding.add(i)
            sent_after_kill = killed.is_set()
        ok = complete(router_port, i)
        with lock:
            outstanding.discard(i)
            outcome[i] = (ok, sent_after_kill)
            finished[0] += 1
            if finished[0] == 10 and not killed.is_set():
                at_kill = set(outstanding)
                os.kill(victim, signal.SIGKILL)
                killed.set()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(100, 140)))
    failed = {i for i, (ok, _) in outcome.items() if not ok}
    check(killed.is_set(), "replica 1 was killed mid-run")
    check(failed <= (at_kill or set()),
          f"only requests outstanding at the kill may fail: failed {sorted(failed)}, "
          f"outstanding {sorted(at_kill or [])}")
    after = [ok for ok, sent_after in outcome.values() if sent_after]
    check(after and all(after), f"all {len(after)} requests sent after the kill succeed")

    # 3. The restarted replica rejoins.
    deadline = time.time() + 180
    rejoined = False
    while time.time() < deadline and not rejoined:
        if successes(ports[1]) is None:
            time.sleep(1)
            continue
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda i: complete(router_port, i), range(200, 204)))
        rejoined = (successes(ports[1]) or 0) > 0
    restarted = int(open(os.path.join(run_dir, "replica-1.pid")).read())
    check(restarted != victim, "the script restarted replica 1")
    check(rejoined, "the restarted replica 1 serves requests through the router again")
    wait_healthy(ports[1])
    rolling_restart(router_port, ports, run_dir)


def wait_healthy(port, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def rolling_restart(router_port, ports, run_dir):
    draining = int(open(os.path.join(run_dir, "replica-0.pid")).read())
    log_path = os.path.join(run_dir, "replica-0.log")
    with ThreadPoolExecutor(6) as pool:
        streams = [pool.submit(stream, router_port, i) for i in range(300, 306)]
        deadline = time.time() + 120
        while (metric(ports[0], "vllm:num_requests_running") or 0) < 1:
            if time.time() > deadline:
                check(False, "a stream runs on replica 0 before the SIGTERM")
                return
            time.sleep(0.1)
        os.kill(draining, signal.SIGTERM)
        during = [pool.submit(complete, router_port, i) for i in range(400, 412)]
        stream_results = [f.result() for f in streams]
        during_results = [f.result() for f in during]
    check(all(stream_results),
          f"every stream in flight at the SIGTERM delivers 48 tokens and [DONE] "
          f"({sum(stream_results)} of {len(stream_results)})")
    check(all(during_results),
          f"every request sent while replica 0 drains succeeds "
          f"({sum(during_results)} of {len(during_results)})")
    deadline = time.time() + 180
    exits_path = os.path.join(run_dir, "replica-0.exits")
    while not os.path.exists(exits_path) and time.time() < deadline:
        time.sleep(0.5)
    exits = open(exits_path).read().split() if os.path.exists(exits_path) else []
    check(exits == ["0"], f"the drained replica 0 exited with status 0 ({exits})")
    log = open(log_path, errors="replace").read()
    after_signal = log.split("Shutting down", 1)[1] if "Shutting down" in log else ""
    drain_window = after_signal.split("Application startup complete", 1)[0]
    check(after_signal != "", "replica 0 logged its shutdown")
    check("Received request" not in drain_window,
          "the router sent replica 0 no request while it drained")
    check(wait_healthy(ports[0]), "the script restarted replica 0 and it is healthy again")


if __name__ == "__main__":
    sys.exit(main())
