#!/usr/bin/env bash
# Start the archive on http://127.0.0.1:8000, with demo data on a fresh home.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

scripts/setup.sh --no-browser

export ARCHIVE_HOME="${ARCHIVE_HOME:-$PWD/var}"
.venv/bin/archive init
if .venv/bin/archive is-empty; then
    .venv/bin/archive demo
fi
exec .venv/bin/archive serve --host 127.0.0.1 --port 8000
