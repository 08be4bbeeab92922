#!/usr/bin/env bash
# ovllm next to OpenVINO GenAI and vLLM CPU on this machine, every workload in one command:
# the seed's three workloads "as used" and on the "same IR", batch-1 decode against a memory
# bandwidth probe, prompt-lookup decoding on code edits, and tokens/s against concurrency.
# The logic is scripts/bench_peers.py (standard library only); the peers are installed on
# first use into venvs under .work/. `scripts/bench-peers.sh --help` lists the options;
# docs/benchmarks.md says what each workload measures.
#   scripts/bench-peers.sh [--ovllm build/ovllm] [--workloads a,b] [--rounds 3] [--json FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/bench_peers.py "$@"
