#!/usr/bin/env bash
# ovllm next to OpenVINO GenAI on this machine: the same random token-id workload
# (input/output lengths, prompt count, ignore_eos, greedy, a u8 KV cache of the same size,
# the same per-step token budget and sequence limit) through `ovllm bench throughput` and
# GenAI's ContinuousBatchingPipeline (scripts/bench_genai.py), both on the same OpenVINO IR
# folder, made once per model with `ovllm convert ... --weight-format int8`. The KV space is
# VLLM_OPENVINO_KVCACHE_SPACE or 8 GB (GenAI refuses a cache larger than free memory).
# With --rounds N the engines take turns N times (timings on a shared machine drift) and the
# table shows each engine's median run. Prints one table: total and output tokens/s of each
# engine, and ovllm's total tokens/s over GenAI's.
#   scripts/bench-peers.sh [--input-len 128] [--output-len 128] [--num-prompts 500]
#                          [--max-num-batched-tokens 8192] [--max-num-seqs 256]
#                          [--models opt|qwen|all] [--rounds 1]
set -euo pipefail
cd "$(dirname "$0")/.."

INPUT_LEN=128 OUTPUT_LEN=128 NUM_PROMPTS=500 CACHE_GB=${VLLM_OPENVINO_KVCACHE_SPACE:-8}
BATCHED_TOKENS=8192 MAX_SEQS=256 WHICH=all ROUNDS=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --input-len) INPUT_LEN=$2; shift 2 ;;
        --output-len) OUTPUT_LEN=$2; shift 2 ;;
        --num-prompts) NUM_PROMPTS=$2; shift 2 ;;
        --max-num-batched-tokens) BATCHED_TOKENS=$2; shift 2 ;;
        --max-num-seqs) MAX_SEQS=$2; shift 2 ;;
        --models) WHICH=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        *) echo "bench-peers.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

OVLLM=./build/ovllm
WORK=.work/peers
GENAI_VENV=.work/genai
[[ -x $OVLLM ]] || { echo "bench-peers.sh: $OVLLM missing; run scripts/setup.sh" >&2; exit 1; }
if ! "$OVLLM" convert --help >/dev/null 2>&1; then
    echo "bench-peers.sh: '$OVLLM convert' is not available in this build; GenAI needs an" \
         "IR folder made by it. Build a version with 'ovllm convert' and rerun." >&2
    exit 1
fi
if [[ ! -x $GENAI_VENV/bin/python ]]; then
    python3 -m venv "$GENAI_VENV"
    "$GENAI_VENV/bin/pip" install -q openvino-genai==2026.4.1.0
fi
mkdir -p "$WORK"

# name | flags that build it | IR folder
MODELS=()
[[ $WHICH == all || $WHICH == opt ]] &&
    MODELS+=("facebook/opt-125m|--load-format dummy|$WORK/opt-125m-int8")
[[ $WHICH == all || $WHICH == qwen ]] &&
    MODELS+=(".models/qwen2.5-coder-0.5b||$WORK/qwen2.5-coder-0.5b-int8")

# "Throughput: A requests/s, B total tokens/s, C output tokens/s" -> "B C"
rates() { sed -n 's/.* \([0-9.]*\) total tokens\/s, \([0-9.]*\) output tokens\/s.*/\1 \2/p' | tail -1; }

# The run with the median total tokens/s among "total output" pairs.
median() { printf '%s\n' "$@" | sort -n -k1,1 | sed -n "$(( ($# + 1) / 2 ))p"; }

printf '%-28s %-6s %14s %14s %14s\n' model engine "total tok/s" "output tok/s" "ovllm/genai"
for entry in "${MODELS[@]}"; do
    IFS='|' read -r name build_flags ir <<<"$entry"
    [[ -f $ir/openvino_model.xml ]] ||
        "$OVLLM" convert "$name" $build_flags --output "$ir" --weight-format int8 >&2
    vocab=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" \
        "$ir/config.json")
    ours=() theirs=()
    for round in $(seq 1 "$ROUNDS"); do
        ours+=("$(VLLM_OPENVINO_KVCACHE_SPACE=$CACHE_GB VLLM_OPENVINO_CPU_KV_CACHE_PRECISION=u8 \
            "$OVLLM" bench throughput --model "$ir" --input-len "$INPUT_LEN" \
            --output-len "$OUTPUT_LEN" --num-prompts "$NUM_PROMPTS" \
            --max-num-batched-tokens "$BATCHED_TOKENS" --max-num-seqs "$MAX_SEQS" \
            --temperature 0 2>/dev/null | rates)")
        theirs+=("$("$GENAI_VENV/bin/python" scripts/bench_genai.py "$ir" \
            --input-len "$INPUT_LEN" --output-len "$OUTPUT_LEN" --num-prompts "$NUM_PROMPTS" \
            --cache-size "$CACHE_GB" --max-num-batched-tokens "$BATCHED_TOKENS" \
            --max-num-seqs "$MAX_SEQS" --vocab-size "$vocab" | rates)")
        echo "round $round: ovllm ${ours[-1]}, genai ${theirs[-1]} (total, output tok/s)" >&2
    done
    read -r ours_total ours_out < <(median "${ours[@]}")
    read -r theirs_total theirs_out < <(median "${theirs[@]}")
    ratio=$(python3 -c "print(f'{$ours_total / $theirs_total:.2f}x')")
    printf '%-28s %-6s %14s %14s %14s\n' "$name" ovllm "$ours_total" "$ours_out" "$ratio"
    printf '%-28s %-6s %14s %14s %14s\n' "$name" genai "$theirs_total" "$theirs_out" ""
done
