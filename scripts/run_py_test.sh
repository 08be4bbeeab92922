#!/usr/bin/env bash
# Runs a Python test script with the tools venv that scripts/test.sh makes
# (requirements-tools.txt); exits 77 (ctest: skipped) when the venv or a module is missing.
# Usage: scripts/run_py_test.sh "module1, module2" scripts/test_x.py [args...]
set -euo pipefail
cd "$(dirname "$0")/.."
modules=$1
shift
PYTHON=.venv-tools/bin/python
if [[ ! -x $PYTHON ]] || ! "$PYTHON" -c "import $modules" 2>/dev/null; then
    echo "SKIP: no .venv-tools with $modules (scripts/test.sh creates it)"
    exit 77
fi
exec "$PYTHON" "$@"
