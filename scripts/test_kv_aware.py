"""vllm-router's kv_aware policy in front of two `ovllm serve` replicas publishing KV events
(scripts/serve-replicas.sh --policy kv_aware): the end-to-end check that the router matches
our blocks. Three long prompts are sent straight to replica 0 and three others straight to
replica 1, filling their prefix caches (and publishing BlockStored); then each prompt goes
through the router, which must send it to the replica that holds it, as each replica's
vllm:request_success_total shows. By chance alone all six land right 1 time in 64.

Environment: OVLLM_BINARY, OVLLM_MODELS_DIR. Exits non-zero on a failed check.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def complete(port, prompt):
    body = {"model": "smol", "prompt": prompt, "max_tokens": 2, "temperature": 0}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as r:
        return r.status == 200


def successes(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return int(sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
                   if s.name == "vllm:request_success_total"))


def main():
    router_port, base, events = free_port(), free_port(), free_port()
    ports = [base, base + 1]
    run_dir = tempfile.mkdtemp(prefix="ovllm-kv-aware-test.")
    model = os.path.join(os.environ.get("OVLLM_MODELS_DIR", ".models"), "smollm2-135m")
    script = subprocess.Popen(
        ["scripts/serve-replicas.sh", model, "--replicas", "2", "--threads-per-replica", "1",
         "--policy", "kv_aware", "--router-port", str(router_port), "--base-port", str(base),
         "--kv-events-base-port", str(events), "--run-dir", run_dir,
         "--router-args", "--log-level debug", "--",
         "--served-model-name", "smol", "--dtype", "f32", "--kv-cache-space", "0.3",
         "--max-model-len", "1024", "--disable-log-requests"],
        stderr=subprocess.PIPE, text=True)
    failures = []
    try:
        deadline = time.time() + 300
        while not os.path.exists(os.path.join(run_dir, "ready")):
            if script.poll() is not None or time.time() > deadline:
                sys.exit("serve-replicas.sh did not start: " + (script.stderr.read() or ""))
            time.sleep(0.5)
        time.sleep(2)  # the router's subscribers connect to both publishers
        prompts = [" ".join(f"{topic} fact {i} is about {topic}" for i in range(30))
                   for topic in ("oceans", "deserts", "forests", "glaciers", "volcanoes",
                                 "rivers")]
        home = [0, 0, 0, 1, 1, 1]
        for prompt, replica in zip(prompts, home):
            complete(ports[replica], prompt)
        time.sleep(1)  # the events reach the router
        for prompt, replica in zip(prompts, home):
            before = [successes(p) for p in ports]
            ok = complete(router_port, prompt)
            after = [successes(p) for p in ports]
            went = [a - b for a, b in zip(after, before)]
            right = ok and went[replica] == 1 and sum(went) == 1
            print(("ok: " if right else "FAIL: ") +
                  f"a prompt cached on replica {replica} is routed there ({went})", flush=True)
            if not right:
                failures.append(prompt[:20])
    finally:
        script.send_signal(signal.SIGTERM)
        script.wait(timeout=60)
    # The router's own account: each routed prompt was credited cached blocks (32 tokens
    # each), not placed by the load-based fallback.
    log = open(os.path.join(run_dir, "router.log"), errors="replace").read()
    log = re.sub(r"\x1b\[[0-9;]*m", "", log)  # the router colours its log
    credited = [int(m) for m in re.findall(r"credited_prefix_tokens\W*(\d+)", log)]
    good = len(credited) == len(prompts) and all(c >= 32 and c % 32 == 0 for c in credited)
    print(("ok: " if good else "FAIL: ") + f"the router credited cached prefixes {credited}")
    if not good:
        failures.append("credit")
    if failures:
        print(f"{len(failures)} prompt(s) routed elsewhere; router log: {run_dir}/router.log")
        return 1
    print("kv_aware routed every prompt to the replica holding its prefix")
    return 0


if __name__ == "__main__":
    sys.exit(main())
