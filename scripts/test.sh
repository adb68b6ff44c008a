#!/usr/bin/env bash
# The test command: builds, runs the Swift test targets, then the end-to-end
# tests (Python, in .venv, which this script creates on first use).
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
swift test --skip-build

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
if ! cmp -s scripts/requirements-test.txt .venv/requirements-test.txt; then
    .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
    cp scripts/requirements-test.txt .venv/requirements-test.txt
fi
MCP_RECORDER_BIN_DIR="$(swift build --show-bin-path)" .venv/bin/python -m pytest -q Tests/e2e

# Coverage-guided fuzzing of the parsers, a short bounded run of every target
# (MCP_RECORDER_FUZZ_SECONDS each, default 30; 0 skips). Longer runs: docs/testing.md.
fuzz_seconds=${MCP_RECORDER_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" != 0 ]; then
    scripts/fuzz.sh all "$fuzz_seconds"
fi
