#!/usr/bin/env bash
# Prepare this machine for building, running and testing the archive.
# Idempotent: a second run installs nothing and needs no network.
#   scripts/setup.sh [--no-browser]
set -euo pipefail

with_browser=1
for arg in "$@"; do
    case "$arg" in
        --no-browser) with_browser=0 ;;
        -h | --help)
            echo "usage: scripts/setup.sh [--no-browser]"
            exit 0
            ;;
        *)
            echo "setup: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
else
    as_root=(sudo)
fi

# --- Debian packages -------------------------------------------------------
wanted=(
    python3 python3-venv python3-dev build-essential
    fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
    postgresql poppler-utils
    # OCRmyPDF's engines: scans become PDF/A with a Chinese text layer (archive/scans/ocr.py)
    ghostscript tesseract-ocr tesseract-ocr-chi-sim
    # Go's own golang.org/x/mod/sumdb/note: the tests open signed and cosigned checkpoints
    # with it, so the notes stay byte-compatible with C2SP (tests/test_witness.py)
    golang-go golang-golang-x-mod-dev
)
if [ "$with_browser" -eq 1 ]; then
    wanted+=(chromium)
fi

missing=()
for pkg in "${wanted[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [ "$status" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt_log="$(mktemp -t setup-apt.XXXXXX.log)"
    if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$apt_log" 2>&1 ||
        ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1; then
        tail -n 40 "$apt_log" >&2
        echo "setup: apt-get failed (full log: $apt_log)" >&2
        exit 1
    fi
    rm -f "$apt_log"
else
    echo "setup: Debian packages present"
fi

# --- Python virtual environment -------------------------------------------
python="$(command -v python3)"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $python ($("$python" --version 2>&1))"
    "$python" -m venv .venv
else
    echo "setup: .venv exists"
fi

stamp=.venv/.installed-stamp
if [ ! -e "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing the project and its test tools into .venv"
    pip_log="$(mktemp -t setup-pip.XXXXXX.log)"
    if ! .venv/bin/python -m pip install --upgrade pip >"$pip_log" 2>&1 ||
        ! .venv/bin/python -m pip install -e '.[test]' >>"$pip_log" 2>&1; then
        grep -v '^WARNING: Location' "$pip_log" | tail -n 40 >&2
        echo "setup: pip install failed (full log: $pip_log)" >&2
        exit 1
    fi
    rm -f "$pip_log"
    touch "$stamp"
else
    echo "setup: Python packages up to date"
fi

echo "setup: done"
