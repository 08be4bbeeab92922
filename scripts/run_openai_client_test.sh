#!/usr/bin/env bash
# Runs a Python client test (default scripts/test_openai_client.py; another script as the first
# argument) with the tools venv made by scripts/test.sh; exits 77 (ctest: skipped) when the
# venv or one of its packages is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=${1:-scripts/test_openai_client.py}
PYTHON=.venv-tools/bin/python
if [[ ! -x $PYTHON ]] || ! "$PYTHON" -c 'import openai, prometheus_client, jsonschema' 2>/dev/null; then
    echo "SKIP: no .venv-tools with the openai, prometheus_client and jsonschema packages (scripts/test.sh creates it)"
    exit 77
fi
exec "$PYTHON" "$SCRIPT" "${@:2}"
