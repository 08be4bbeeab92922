#!/usr/bin/env bash
# Runs tests/hub/test_hub_cli.py (the ovllm binary against a fake hub on loopback) with the
# tools venv when it has huggingface_hub (scripts/test.sh installs it), else with python3.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=python3
if [[ -x .venv-tools/bin/python ]] && .venv-tools/bin/python -c 'import huggingface_hub' 2>/dev/null; then
    PYTHON=.venv-tools/bin/python
fi
exec "$PYTHON" tests/hub/test_hub_cli.py -v "$@"
