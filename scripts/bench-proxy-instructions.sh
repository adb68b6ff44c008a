#!/usr/bin/env bash
# Instructions the sidecar executes per exchange (user space, all threads), counted by
# valgrind's callgrind: a figure that does not move with a noisy neighbour, for comparing two
# builds of the sidecar on a shared machine where CPU time per exchange varies by ±15 %.
#
#   scripts/bench-proxy-instructions.sh [BINARY ...]
#
# Each binary (default: the release build in .build-release) runs the sidecar under callgrind
# in front of bench-backend's trivial backend; `hey` sends 200 warm-up exchanges, the counters
# are zeroed, then EXCHANGES (992) POSTs of the bench's MCP tools/call request with 16
# connections, then the counters are dumped. Prints the instructions per exchange and, with
# TOP=N, the N functions that execute the most instructions (self). With BIG_MIB=N it then also
# counts one N MiB body (the backend's /big: JSON-like log lines) streamed through the same
# sidecar, and prints the instructions per byte; BIG_JSON=1 sends it as one JSON-RPC result
# (/big?json=1, application/json: redacted and skimmed), BIG_SSE=1 as that result in one SSE
# event, and TOP=N also lists the body's functions.
#
# Needs valgrind (Debian: valgrind) and hey (Debian: hey). Valgrind 3.19 cannot read Swift's
# DWARF 5, so each binary is copied without debug info first (objcopy --strip-debug); symbols
# stay. About 20 s per binary. Kernel work (syscalls, loopback TCP) is not counted: use
# scripts/bench-proxy.sh for CPU time and throughput.
set -euo pipefail
cd "$(dirname "$0")/.."

EXCHANGES="${EXCHANGES:-992}"   # hey sends a multiple of its 16 connections
TOP="${TOP:-0}"
BIG_MIB="${BIG_MIB:-0}"
BIG_QUERY="mb=$BIG_MIB"
[[ "${BIG_JSON:-0}" == 1 ]] && BIG_QUERY="$BIG_QUERY&json=1"
[[ "${BIG_SSE:-0}" == 1 ]] && BIG_QUERY="$BIG_QUERY&sse=1"
BASE_PORT="${BASE_PORT:-19300}"
SCRATCH="${SCRATCH:-.build-release}"
WORK="${BENCH_DIR:-/tmp/mcp-recorder-bench-instructions}"
BIN_DIR="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
BACKEND="$BIN_DIR/bench-backend"
[[ $# -gt 0 ]] || set -- "$BIN_DIR/mcp-recorder"

for tool in valgrind callgrind_control hey objcopy curl; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found" >&2; exit 1; }
done
[[ -x "$BACKEND" ]] || { echo "error: $BACKEND not built (swift build -c release --product bench-backend --scratch-path $SCRATCH)" >&2; exit 1; }

mkdir -p "$WORK"
BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_docs","arguments":{"query":"deployment guide for the pod namespace","limit":10},"_meta":{"progressToken":1}}}'
UPSTREAM=$BASE_PORT LISTEN=$((BASE_PORT + 1)) ADMIN=$((BASE_PORT + 2))
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$BACKEND" --port "$UPSTREAM" --delay-ms 0 --threads 1 >"$WORK/backend.log" 2>&1 &
pids+=($!)

send() {
    hey -n "$1" -c 16 -m POST -T application/json -H "Accept: application/json, text/event-stream" \
        -d "$BODY" "http://127.0.0.1:$LISTEN/mcp"
}

for binary in "$@"; do
    stripped="$WORK/$(basename "$binary").nodebug"
    objcopy --strip-debug "$binary" "$stripped"
    rm -rf "$WORK/spool" "$WORK"/callgrind.out.*
    valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out.%p" --dump-instr=no \
        "$stripped" sidecar --listen "127.0.0.1:$LISTEN" --upstream "127.0.0.1:$UPSTREAM" \
        --spool "$WORK/spool" --admin-listen "127.0.0.1:$ADMIN" --stream instructions \
        --spool-max-bytes 8GiB --log-level warning >"$WORK/sidecar.log" 2>&1 &
    sidecar=$!
    pids+=($sidecar)
    for _ in $(seq 600); do curl -fsS -o /dev/null -m 1 "http://127.0.0.1:$ADMIN/readyz" 2>/dev/null && break; sleep 0.1; done
    send 200 >/dev/null
    callgrind_control -z "$sidecar" >/dev/null 2>&1
    answered=$(send "$EXCHANGES" | awk '/\[200\]/ {print $2}')
    callgrind_control -d "$sidecar" >/dev/null 2>&1
    sleep 1
    big=""
    if [[ "$BIG_MIB" -gt 0 ]]; then
        curl -fsS -o /dev/null "http://127.0.0.1:$LISTEN/big?mb=1"
        callgrind_control -z "$sidecar" >/dev/null 2>&1
        bytes=$(curl -fsS -o /dev/null -w '%{size_download}' "http://127.0.0.1:$LISTEN/big?$BIG_QUERY")
        callgrind_control -d "$sidecar" >/dev/null 2>&1
        sleep 1
        big="$WORK/callgrind.out.$sidecar.2"
    fi
    kill "$sidecar" 2>/dev/null || true
    wait "$sidecar" 2>/dev/null || true
    dump="$WORK/callgrind.out.$sidecar.1"
    total=$(awk '/^summary:/ {print $2}' "$dump")
    echo "$binary: ${answered:-0} of $EXCHANGES exchanges answered 200; $((total / ${answered:-1})) instructions per exchange"
    if [[ -n "$big" ]]; then
        big_total=$(awk '/^summary:/ {print $2}' "$big")
        echo "$binary: a $BIG_MIB MiB body ($bytes bytes): $big_total instructions, $(python3 -c "print(round($big_total / $bytes, 1))") per byte"
    fi
    top() {
        python3 - "$1" "$TOP" "$2" <<'PY'
import collections, re, sys
names, own = {}, collections.Counter()
fn, after_call = None, False
for line in open(sys.argv[1]):
    # Names are given once, at their first "fn=" or "cfn=", and by number after that.
    m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
    if m and m.group(2): names[m.group(1)] = m.group(2)
    if line.startswith("fn="):
        fn, after_call = names.get(m.group(1), m.group(1)), False
    elif line.startswith("calls="):
        after_call = True
    elif line[:1].isdigit() or line[:1] in "+-*":
        fields = line.split()
        if len(fields) >= 2 and not after_call: own[fn] += int(fields[1])
        after_call = False
total, per = sum(own.values()), float(sys.argv[3])
for name, count in own.most_common(int(sys.argv[2])):
    print(f"  {100 * count / total:5.2f} %  {count / per:8.1f}  {name[:140]}")
PY
    }
    if [[ "$TOP" -gt 0 ]]; then
        echo "per exchange:"
        top "$dump" "${answered:-1}"
        if [[ -n "$big" ]]; then
            echo "per body byte:"
            top "$big" "$bytes"
        fi
    fi
done
