"""Shared by the Python tests that run a real `ovllm serve` on loopback (test tooling only)."""
import os
import socket
import subprocess
import sys
import time
import urllib.request

FAILURES = []


def check(condition, what):
    """Records a failed check (the script exits nonzero at the end if any failed)."""
    if not condition:
        FAILURES.append(what)
        print(f"FAIL: {what}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_serve(server):
    """SIGTERM, then checks the clean exit a drained server must make (code 0)."""
    server.terminate()
    code = server.wait(timeout=60)
    check(code == 0, f"ovllm serve exits cleanly on SIGTERM (got {code})")


def exit_code():
    """Prints the failure count; the script's exit code (1 when any check failed)."""
    print(f"{len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


def serve_command(model, port, served_name, *flags):
    """`ovllm serve` of OVLLM_MODELS_DIR/<model> (OVLLM_BINARY) on `port` as `served_name`, in
    the exact mode (--dtype f32: the same greedy text on every CPU), without request logs, plus
    `flags`."""
    binary = os.environ.get("OVLLM_BINARY", "build/ovllm")
    folder = os.path.join(os.environ.get("OVLLM_MODELS_DIR", ".models"), model)
    return [binary, "serve", folder, "--port", str(port), "--served-model-name", served_name,
            "--dtype", "f32", "--disable-log-requests", *flags]


def start_serve(command, port, timeout_s=180):
    """Starts `command` (an `ovllm serve` line) and waits until /health answers 200."""
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if server.poll() is not None:
            sys.exit("ovllm serve exited: " + server.stderr.read().decode(errors="replace"))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("ovllm serve did not become healthy")
