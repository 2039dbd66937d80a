#!/usr/bin/env bash
# Lint, check formatting, and run the test suite. Extra arguments go to pytest
# (e.g. ./test.sh -n 0 tests/test_cli.py to run one file in this process).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

scripts/setup.sh

echo "test: ruff check"
.venv/bin/ruff check .
echo "test: ruff format --check"
.venv/bin/ruff format --check .
echo "test: pytest"
# Two workers, one test module per worker at a time (module fixtures are built once).
.venv/bin/pytest -n 2 --dist loadscope "$@"
