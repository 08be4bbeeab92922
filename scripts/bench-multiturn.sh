#!/usr/bin/env bash
# Multi-turn chat through vllm-router, once per routing policy: `ovllm bench serve` plays
# conversations that resend their whole history every turn against 2 replicas started by
# scripts/serve-replicas.sh, and reads the prefix-cache hit rate from the replicas' /metrics.
#
#   scripts/bench-multiturn.sh [MODEL] [--policies "round_robin cache_aware kv_aware"]
#                              [--conversations 6] [--turns 3] [--concurrency 3]
#                              [--input-len 400] [--output-len 16]
#
# MODEL defaults to .models/smollm2-135m. Each policy gets fresh replicas (empty caches).
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=.models/smollm2-135m
POLICIES="round_robin cache_aware kv_aware"
CONVERSATIONS=6 TURNS=3 CONCURRENCY=3 INPUT_LEN=400 OUTPUT_LEN=16
if [[ $# -gt 0 && $1 != --* ]]; then MODEL=$1; shift; fi
while [[ $# -gt 0 ]]; do
    case $1 in
        --policies) POLICIES=$2; shift 2 ;;
        --conversations) CONVERSATIONS=$2; shift 2 ;;
        --turns) TURNS=$2; shift 2 ;;
        --concurrency) CONCURRENCY=$2; shift 2 ;;
        --input-len) INPUT_LEN=$2; shift 2 ;;
        --output-len) OUTPUT_LEN=$2; shift 2 ;;
        *) echo "bench-multiturn.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

OVLLM=./build/ovllm
ROUTER_PORT=8000 BASE_PORT=8100
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
for policy in $POLICIES; do
    run_dir=$(mktemp -d -t ovllm-multiturn.XXXXXX)
    scripts/serve-replicas.sh "$MODEL" --replicas 2 --threads-per-replica 1 --policy "$policy" \
        --router-port "$ROUTER_PORT" --base-port "$BASE_PORT" --run-dir "$run_dir" \
        -- --served-model-name model --enable-prefix-caching --kv-cache-space 1 \
        --max-model-len 2048 --disable-log-requests 2>"$run_dir/script.log" &
    script=$!
    until [[ -e $run_dir/ready ]]; do
        kill -0 "$script" 2>/dev/null || { cat "$run_dir/script.log" >&2; exit 1; }
        sleep 0.5
    done
    echo "== policy $policy"
    "$OVLLM" bench serve --backend openai-chat --port "$ROUTER_PORT" --model model \
        --tokenizer "$MODEL" --random-input-len "$INPUT_LEN" --random-output-len "$OUTPUT_LEN" \
        --ignore-eos --num-prompts "$CONVERSATIONS" --multi-turn "$TURNS" \
        --max-concurrency "$CONCURRENCY" --percentile-metrics ttft,e2el \
        --metrics-url "http://127.0.0.1:$BASE_PORT/metrics" \
        --metrics-url "http://127.0.0.1:$((BASE_PORT + 1))/metrics" || true
    kill -TERM "$script"
    wait "$script" || true
    rm -rf "$run_dir"
done
