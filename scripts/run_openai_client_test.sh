#!/usr/bin/env bash
# Runs scripts/test_openai_client.py with the tools venv (made by scripts/test.sh); exits 77
# (ctest: skipped) when the venv or its `openai` package is missing.
exec "$(dirname "$0")/run_py_test.sh" "openai, prometheus_client" scripts/test_openai_client.py "$@"
