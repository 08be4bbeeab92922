#!/usr/bin/env bash
# Runs scripts/test_openai_client.py with the tools venv (made by scripts/test.sh); exits 77
# (ctest: skipped) when the venv or its `openai` package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv-tools/bin/python
if [[ ! -x $PYTHON ]] || ! "$PYTHON" -c 'import openai, prometheus_client' 2>/dev/null; then
    echo "SKIP: no .venv-tools with the openai and prometheus_client packages (scripts/test.sh creates it)"
    exit 77
fi
exec "$PYTHON" scripts/test_openai_client.py "$@"
