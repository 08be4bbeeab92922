#!/usr/bin/env bash
# Runs every test: builds what changed, fetches the real test models once, then ctest.
# Extra arguments go to ctest (for example: -L tokenizer, -R Golden).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
SHARED_DIR=${OVLLM_SHARED_DIR:-$(cd .. && pwd)/shared}
export OVLLM_MODELS_DIR=${OVLLM_MODELS_DIR:-$PWD/.models}

cmake --build "$BUILD_DIR" -j"$(nproc)"
# SmolLM2-135M (llama) and Qwen2.5-Coder-0.5B (qwen2); idempotent, ~0.1 s once present.
bash "$SHARED_DIR/models/fetch.sh" --only smollm2 qwen05 "$OVLLM_MODELS_DIR"
# The official OpenAI and Prometheus Python clients, for the serve suite's client test, and
# huggingface_hub, for the hub tests' cache interop checks (test tooling only).
if [[ ! -x .venv-tools/bin/python ]] ||
    ! .venv-tools/bin/python -c 'import openai, prometheus_client, huggingface_hub' 2>/dev/null; then
    # Without them those tests report themselves skipped; the rest still run.
    { python3 -m venv .venv-tools &&
        .venv-tools/bin/pip install -q openai==1.109.1 prometheus_client==0.21.1 \
            huggingface_hub==0.36.0; } ||
        echo "[test] could not install the Python test clients; their tests will be skipped" >&2
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"
