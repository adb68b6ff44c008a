#!/usr/bin/env bash
# Creates or updates the Python environments of the end-to-end tests.
#
#   scripts/e2e-venvs.sh [main|mcp2|all]     (default: all)
#
#   main  .venv        pytest + the MCP Python SDK 1.x line (scripts/requirements-test.txt);
#                      the same venv and stamp file scripts/test.sh uses.
#   mcp2  .venv-mcp2   the MCP Python SDK 2.x line (scripts/requirements-mcp2.txt). The two
#                      SDK lines cannot share a venv; the e2e fixtures run this script with
#                      "mcp2" on demand and start 2.x servers and clients with its python.
#
# A venv is (re)installed only when its requirements file differs from the copy
# stored in the venv after the last successful install. Prints the python path of
# each venv it handled. Environment: PYTHON (interpreter for new venvs, default
# python3), MCP_RECORDER_E2E_MCP2_VENV (location of the 2.x venv).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${PYTHON:-python3}
which=${1:-all}

ensure() {  # ensure VENV_DIR REQUIREMENTS
    local venv=$1 requirements=$2 stamp
    stamp="$venv/$(basename "$requirements")"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
    if ! cmp -s "$requirements" "$stamp"; then
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements" >&2
        cp "$requirements" "$stamp"
    fi
    echo "$venv/bin/python"
}

locked() {  # locked VENV_DIR REQUIREMENTS: one installer at a time per venv
    local lock="$1/.e2e-install.lock"
    mkdir -p "$1"
    # Keep git out of it without touching the repository's .gitignore.
    [ -e "$1/.gitignore" ] || printf '*\n' > "$1/.gitignore"
    if command -v flock >/dev/null 2>&1; then
        (flock -w 600 9 || { echo "timed out waiting for $lock" >&2; exit 1; }; ensure "$@") 9>"$lock"
    else
        ensure "$@"
    fi
}

mcp2_venv=${MCP_RECORDER_E2E_MCP2_VENV:-$root/.venv-mcp2}
case "$which" in
    main) locked "$root/.venv" scripts/requirements-test.txt ;;
    mcp2) locked "$mcp2_venv" scripts/requirements-mcp2.txt ;;
    all)
        locked "$root/.venv" scripts/requirements-test.txt
        locked "$mcp2_venv" scripts/requirements-mcp2.txt
        ;;
    *) echo "usage: $0 [main|mcp2|all]" >&2; exit 2 ;;
esac
