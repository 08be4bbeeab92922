#!/usr/bin/env bash
# Runs every test: builds what changed, fetches the real test models once, then ctest.
# Extra arguments go to ctest (for example: -L tokenizer, -R Golden).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
SHARED_DIR=${OVLLM_SHARED_DIR:-$(cd .. && pwd)/shared}
export OVLLM_MODELS_DIR=${OVLLM_MODELS_DIR:-$PWD/.models}
# The suites whose results depend on the CPU's kernels (bf16 compute, u8 KV, compressed
# weights, dynamic quantization).
PRECISION_TESTS='DefaultPrecision|CompressedLogits|InstructionSet|RealModels|GgufModels'

cmake --build "$BUILD_DIR" -j"$(nproc)"
# SmolLM2-135M (llama) and Qwen2.5-Coder-0.5B (qwen2); idempotent, ~0.1 s once present.
bash "$SHARED_DIR/models/fetch.sh" --only smollm2 qwen05 "$OVLLM_MODELS_DIR"
# The official OpenAI and Prometheus Python clients, for the serve suite's client test (test
# tooling only).
if [[ ! -x .venv-tools/bin/python ]] ||
    ! .venv-tools/bin/python -c 'import openai, prometheus_client' 2>/dev/null; then
    # Without them that one test reports itself skipped; the rest still run.
    { python3 -m venv .venv-tools &&
        .venv-tools/bin/pip install -q openai==1.109.1 prometheus_client==0.21.1; } ||
        echo "[test] could not install the openai client; its test will be skipped" >&2
fi
scripts/cpu-info.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"

# On an AMX CPU the lossy-precision suites run again with oneDNN capped at AVX-512 BF16: the
# matrix kernels of a CPU without AMX (InstructionSet checks that the cap took effect by the
# kernel names). Skipped when ctest was given a selection of its own.
if [[ $# -eq 0 ]] && grep -qw amx_bf16 /proc/cpuinfo; then
    echo "[test] lossy-precision suites again with ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16"
    ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 ctest --test-dir "$BUILD_DIR" --output-on-failure \
        -j"$(nproc)" -R "$PRECISION_TESTS"
fi
