#!/usr/bin/env bash
# The Swift test targets under Thread Sanitizer (see docs/testing.md for the last result).
#
#   scripts/tsan.sh [swift test filter]
#
# Builds everything with -sanitize=thread in .build-tsan (a clean build takes about as long
# as a debug build), then runs the tests; any data race reported fails the run. Not part of
# scripts/test.sh: the instrumented build would add ~15 minutes to CI on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=.build-tsan
swift build --build-tests --sanitize=thread --scratch-path "$scratch"
log="$scratch/tsan-test.log"
status=0
# halt_on_error: the first race fails the run instead of scrolling by.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
    swift test --skip-build --sanitize=thread --scratch-path "$scratch" ${1:+--filter "$1"} >"$log" 2>&1 || status=$?
grep -E "^(✔|✘) Test run|Executed .* tests|ThreadSanitizer" "$log" | sort | uniq -c || true
if [ "$status" -ne 0 ] || grep -q "WARNING: ThreadSanitizer" "$log"; then
    grep -n -A30 "WARNING: ThreadSanitizer" "$log" | head -80 >&2 || tail -n 40 "$log" >&2
    echo "TSan run failed (exit $status); full log: $log" >&2
    exit 1
fi
echo "TSan run clean"
