#!/usr/bin/env bash
# Load test of `ovllm serve`: starts the server on a model, runs `ovllm bench serve` against
# it --runs times (default 2), and prints each run's result block and the server's resident
# memory (VmRSS) after it. Exits 1 when a request failed or when RSS grew by more than
# --max-rss-growth-mb (default 64) from the end of the first run to the end of the last.
#   scripts/serve-load.sh [--model .models/smollm2-135m] [--num-prompts 256]
#                         [--input-len 128] [--output-len 128] [--max-concurrency 32]
#                         [--runs 2] [--port 8123] [--max-rss-growth-mb 64] [-- serve flags...]
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=.models/smollm2-135m NUM_PROMPTS=256 INPUT_LEN=128 OUTPUT_LEN=128 CONCURRENCY=32
RUNS=2 PORT=8123 MAX_GROWTH_MB=64 SERVE_FLAGS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --model) MODEL=$2; shift 2 ;;
        --num-prompts) NUM_PROMPTS=$2; shift 2 ;;
        --input-len) INPUT_LEN=$2; shift 2 ;;
        --output-len) OUTPUT_LEN=$2; shift 2 ;;
        --max-concurrency) CONCURRENCY=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --port) PORT=$2; shift 2 ;;
        --max-rss-growth-mb) MAX_GROWTH_MB=$2; shift 2 ;;
        --) shift; SERVE_FLAGS=("$@"); break ;;
        *) echo "serve-load.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

OVLLM=./build/ovllm
[[ -x $OVLLM ]] || { echo "serve-load.sh: $OVLLM missing; run scripts/setup.sh" >&2; exit 1; }
LOG=$(mktemp -t ovllm-serve-load.XXXXXX.log)
"$OVLLM" serve "$MODEL" --port "$PORT" --disable-log-requests "${SERVE_FLAGS[@]}" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT

for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    kill -0 $SERVER 2>/dev/null || { echo "serve-load.sh: server exited:" >&2; cat "$LOG" >&2; exit 1; }
    sleep 0.5
done

rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER/status"; }
echo "server RSS after start: $(rss_mb) MB"

first_rss="" status=0
for run in $(seq 1 "$RUNS"); do
    out=$("$OVLLM" bench serve --backend openai --port "$PORT" --dataset-name random \
        --random-input-len "$INPUT_LEN" --random-output-len "$OUTPUT_LEN" \
        --num-prompts "$NUM_PROMPTS" --max-concurrency "$CONCURRENCY" --ignore-eos \
        --seed "$run" 2>/dev/null)
    echo "$out"
    rss=$(rss_mb)
    echo "server RSS after run $run: $rss MB"
    [[ -z $first_rss ]] && first_rss=$rss
    failed=$(sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p' <<<"$out")
    if [[ ${failed:-1} != 0 ]]; then
        echo "serve-load.sh: run $run had ${failed:-unknown} failed requests" >&2
        status=1
    fi
done
growth=$((rss - first_rss))
echo "RSS growth from the end of run 1 to the end of run $RUNS: $growth MB"
if ((growth > MAX_GROWTH_MB)); then
    echo "serve-load.sh: RSS grew by $growth MB (limit $MAX_GROWTH_MB MB)" >&2
    status=1
fi
exit $status
