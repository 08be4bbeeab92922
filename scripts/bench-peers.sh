#!/usr/bin/env bash
# ovllm next to OpenVINO GenAI on this machine: the same random token-id workload
# (input/output lengths, prompt count, ignore_eos, u8 KV cache of the same size) through
# `ovllm bench throughput` and GenAI's ContinuousBatchingPipeline (scripts/bench_genai.py).
# Prints one table: engine, output tokens/s, ratio to ovllm.
#   scripts/bench-peers.sh [--input-len 128] [--output-len 128] [--num-prompts 500]
# Models: opt-125m (dummy weights) and .models/qwen2.5-coder-0.5b. GenAI reads an OpenVINO
# IR folder, made once per model with `ovllm convert ... --weight-format int8`.
set -euo pipefail
cd "$(dirname "$0")/.."

INPUT_LEN=128 OUTPUT_LEN=128 NUM_PROMPTS=500 CACHE_GB=${VLLM_OPENVINO_KVCACHE_SPACE:-30}
while [[ $# -gt 0 ]]; do
    case "$1" in
        --input-len) INPUT_LEN=$2; shift 2 ;;
        --output-len) OUTPUT_LEN=$2; shift 2 ;;
        --num-prompts) NUM_PROMPTS=$2; shift 2 ;;
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

# model spec | ovllm flags | IR folder
MODELS=(
    "facebook/opt-125m|--model facebook/opt-125m --load-format dummy|$WORK/opt-125m-int8"
    ".models/qwen2.5-coder-0.5b|--model .models/qwen2.5-coder-0.5b|$WORK/qwen2.5-coder-0.5b-int8"
)

output_rate() { sed -n 's/.* \([0-9.]*\) output tokens\/s.*/\1/p' | tail -1; }

printf '%-28s %-8s %14s %7s\n' model engine "out tok/s" ratio
for entry in "${MODELS[@]}"; do
    IFS='|' read -r name flags ir <<<"$entry"
    load_flags=""
    [[ $flags == *dummy* ]] && load_flags="--load-format dummy"
    [[ -f $ir/openvino_model.xml ]] || "$OVLLM" convert "$name" $load_flags --output "$ir" --weight-format int8 >&2
    vocab=$("$OVLLM" info $flags 2>/dev/null | sed -n 's/.*vocab[_ ]size:* *\([0-9]*\).*/\1/p' | head -1)
    ours=$(VLLM_OPENVINO_KVCACHE_SPACE=$CACHE_GB VLLM_OPENVINO_CPU_KV_CACHE_PRECISION=u8 \
        VLLM_OPENVINO_ENABLE_QUANTIZED_WEIGHTS=ON "$OVLLM" bench throughput $flags \
        --input-len "$INPUT_LEN" --output-len "$OUTPUT_LEN" --num-prompts "$NUM_PROMPTS" \
        2>/dev/null | output_rate)
    theirs=$("$GENAI_VENV/bin/python" scripts/bench_genai.py "$ir" --input-len "$INPUT_LEN" \
        --output-len "$OUTPUT_LEN" --num-prompts "$NUM_PROMPTS" --cache-size "$CACHE_GB" \
        --vocab-size "${vocab:-50272}" | output_rate)
    printf '%-28s %-8s %14s %7s\n' "$name" ovllm "$ours" 1.00
    printf '%-28s %-8s %14s %7s\n' "$name" genai "$theirs" \
        "$(python3 -c "print(f'{$theirs / $ours:.2f}')")"
done
