#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers with libFuzzer (see docs/testing.md).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     default: all targets, 30 s each
#
# Targets: http1 sse redactor jsonrpc segment upload admission (Tests/Fuzz/Targets).
# Builds one instrumented binary (-sanitize=fuzzer,address) in .build-fuzz, then runs each
# target from its committed seed corpus (Tests/Fuzz/corpus/TARGET, read only); inputs that
# reach new coverage go to .build-fuzz/corpus/TARGET. A crash or a broken invariant stops the
# run with a non-zero exit and leaves the input in .build-fuzz/artifacts/: minimise it with
#   MCP_RECORDER_FUZZ_TARGET=T .build-fuzz/debug/mcp-recorder-fuzz -minimize_crash=1 -runs=10000 FILE
# and turn it into a unit test.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(http1 sse redactor jsonrpc segment upload admission)
which=${1:-all}
seconds=${2:-30}
if [ "$which" = all ]; then targets=("${all[@]}"); else targets=("$which"); fi
for t in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $t "* ]] || { echo "unknown fuzz target '$t' (targets: ${all[*]})" >&2; exit 2; }
done

scratch=.build-fuzz
swift build -c debug --scratch-path "$scratch" --product mcp-recorder-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
binary="$scratch/debug/mcp-recorder-fuzz"

mkdir -p "$scratch/artifacts"
for t in "${targets[@]}"; do
    mkdir -p "$scratch/corpus/$t"
    echo "== fuzz $t for ${seconds}s"
    log="$scratch/fuzz-$t.log"
    status=0
    # Swift's own crash backtracer fights AddressSanitizer over the crash: libFuzzer reports it.
    SWIFT_BACKTRACE=enable=no MCP_RECORDER_FUZZ_TARGET=$t "$binary" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$scratch/artifacts/$t-" "$scratch/corpus/$t" "Tests/Fuzz/corpus/$t" >"$log" 2>&1 || status=$?
    grep -E "^(INFO: seed corpus|#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$log" >&2
        echo "fuzz target $t failed (exit $status); the input is in $scratch/artifacts/, the log in $log" >&2
        exit 1
    fi
done
echo "fuzzing passed: ${targets[*]}"
