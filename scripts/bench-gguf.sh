#!/usr/bin/env bash
# A GGUF file next to the HF folder made from it (docs/benchmarks.md, "GGUF vs HF folder"):
#   peak RSS      /usr/bin/time -v "Maximum resident set size" of a 64-token greedy run
#   first token   wall time of a cold `generate --max-tokens 1` (process start to exit: load,
#                 compile, prefill, one token)
#   tokens/s      decode rate of the 64-token run, (tokens - 1) / (finished - first token)
# HF folder rows: int8 (the --weight-format auto default) converted cold, then read from the
# IR cache (a private XDG_CACHE_HOME, removed at the end). Usage:
#   scripts/bench-gguf.sh [GGUF] [FOLDER]    (defaults: .models/qwen2.5-coder-1.5b{.gguf,})
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${OVLLM_BIN:-$root/build/ovllm}"
gguf="${1:-$root/.models/qwen2.5-coder-1.5b.gguf}"
folder="${2:-$root/.models/qwen2.5-coder-1.5b}"
prompt="Write a Python function that returns the n-th Fibonacci number."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"

measure() {  # label, then env assignments and `generate` arguments
    local label="$1"
    shift
    local t0 t1
    t0=$(date +%s.%N)
    env "$@" --prompt "$prompt" --max-tokens 1 >/dev/null 2>&1
    t1=$(date +%s.%N)
    /usr/bin/time -v env "$@" --prompt "$prompt" --max-tokens 64 --ignore-eos \
        --output-json "$work/out.jsonl" >/dev/null 2>"$work/time.txt"
    python3 - "$label" "$t0" "$t1" "$work/time.txt" "$work/out.jsonl" <<'PY'
import json, re, sys
label, t0, t1, time_txt, out = sys.argv[1:]
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(time_txt).read()).group(1))
rec = json.loads(open(out).readline())
m = rec["metrics"]
n = len(rec["completions"][0]["token_ids"])
rate = (n - 1) / (m["finished_time"] - m["first_token_time"])
print(f"| {label} | {rss_kb / 1024**2:.2f} GiB | {float(t1) - float(t0):.1f} s | {rate:.1f} |")
PY
}

gguf_gib=$(python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1]) / 1024**3:.2f}')" "$gguf")
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "GGUF file: $gguf_gib GiB"
echo "| model | peak RSS | first token (cold) | tokens/s |"
echo "|---|---|---|---|"
measure "GGUF $(basename "$gguf")" "$bin" generate --model "$gguf"
measure "HF folder, int8, converted" OVLLM_DISABLE_IR_CACHE=1 "$bin" generate --model "$folder"
"$bin" generate --model "$folder" --prompt "$prompt" --max-tokens 1 >/dev/null 2>&1  # fills the IR cache
measure "HF folder, int8, IR cache" "$bin" generate --model "$folder"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
