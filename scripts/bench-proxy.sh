#!/usr/bin/env bash
# Benchmark of the recording proxy (`mcp-recorder sidecar`) against direct access
# and HAProxy (1 thread) on the same backends, in one run (product brief §11).
#
# Starts, all on loopback:
#   - two `bench-backend`s: "trivial" (answers at once) and "mcp" (1 ms service
#     time), each with POST /mcp, GET /sse and GET /big (as bytes, as one JSON result, as one SSE event);
#   - a sidecar in front of each (recording on, spool under BENCH_DIR, 8 GiB cap);
#   - one HAProxy (`nbthread 1`, `mode http`, `option http-no-delay`) with a
#     frontend in front of each.
# Then measures, side by side (direct / sidecar / haproxy), on both backends:
#   1. latency at a constant RATE req/s: open-loop generator
#      (scripts/bench_proxy_client.py rate), p50/p99 and the latency each proxy adds;
#   2. throughput: wrk, POST /mcp, keep-alive, WRK_THREADS threads, WRK_CONNECTIONS
#      connections, WRK_SECONDS (after a 2 s warm-up);
#   3. SSE (trivial backend): per-event receive time − send timestamp,
#      /sse?events=200&interval-ms=5;
#   4. sidecar RSS: idle after start, max during the RATE run, max under wrk, and
#      while a 100 MiB body streams through it (curl to /dev/null).
# Also the CPU time each proxy spent per request (from /proc/PID/stat).
# Prints a Markdown report with PASS/FAIL against the targets and exits 0 either
# way: it is a benchmark, not a test. Everything it started is stopped on exit.
#
# Needs: swift, python3, curl, wrk, haproxy (Debian: apt-get install wrk haproxy).
#
# Environment:
#   WRK_SECONDS       wrk duration per target              (default 10)
#   WRK_THREADS       wrk threads                          (default 2)
#   WRK_CONNECTIONS   wrk connections                      (default 50)
#   RATE              constant request rate for latency    (default 500)
#   LAT_SECONDS       measured seconds per latency run     (default 10)
#   SSE_EVENTS        events per SSE stream                (default 200)
#   SSE_INTERVAL_MS   interval between events              (default 5)
#   SSE_RUNS          streams per target                   (default 5)
#   BIG_MB            size of the streamed body, MiB       (default 100)
#   BACKEND_THREADS   event-loop threads of each backend   (default 1)
#   BASE_PORT         first of the ports used (18100…18132)(default 18100)
#   BENCH_DIR         working directory (spools, configs, results)
#                     (default ${TMPDIR:-/tmp}/mcp-recorder-bench-proxy)
#   ALLOC_EXCHANGES   exchanges of the allocation count      (default 20000)
#   SKIP_BUILD        1 to reuse an existing release build  (default 0)
#   SWIFT_BUILD_FLAGS extra `swift build` flags            (default --static-swift-stdlib:
#                     the image's build, whose idle RSS is the one that ships)
#   PYTHON            Python 3 interpreter                  (default python3)
set -euo pipefail

WRK_SECONDS="${WRK_SECONDS:-10}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-50}"
RATE="${RATE:-500}"
LAT_SECONDS="${LAT_SECONDS:-10}"
SSE_EVENTS="${SSE_EVENTS:-200}"
SSE_INTERVAL_MS="${SSE_INTERVAL_MS:-5}"
SSE_RUNS="${SSE_RUNS:-5}"
BIG_MB="${BIG_MB:-100}"
BACKEND_THREADS="${BACKEND_THREADS:-1}"
BASE_PORT="${BASE_PORT:-18100}"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/mcp-recorder-bench-proxy}"
SKIP_BUILD="${SKIP_BUILD:-0}"
SWIFT_BUILD_FLAGS="${SWIFT_BUILD_FLAGS---static-swift-stdlib}"
ALLOC_EXCHANGES="${ALLOC_EXCHANGES:-20000}"

# The allocation budget per exchange (heap allocations, release build), by --inline-messages
# and part: what proxy-bench counted when it was last lowered (docs/performance.md), rounded up.
budget_of() { # budget_of MODE core|writer
    case "$1.$2" in
        none.core) echo 28 ;; none.writer) echo 32 ;;      # counted at e8a898e: 25, 29 (bf0c895: 36, 40; ecf51d3: 46, 50; 6498982: 54, 58; 78e2dae: 98, 114)
        small.core) echo 53 ;; small.writer) echo 57 ;;    # counted at e8a898e: 50, 54 (bf0c895: 59, 63; ecf51d3: 69, 73; 6498982: 77, 81; 78e2dae: 141, 157)
    esac
}
PYTHON="${PYTHON:-python3}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCRATCH=".build-release"
CLIENT="$ROOT/scripts/bench_proxy_client.py"
COMMAND="WRK_SECONDS=$WRK_SECONDS WRK_THREADS=$WRK_THREADS WRK_CONNECTIONS=$WRK_CONNECTIONS RATE=$RATE LAT_SECONDS=$LAT_SECONDS SSE_RUNS=$SSE_RUNS BIG_MB=$BIG_MB scripts/bench-proxy.sh"

log() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- tools

missing=()
need() { # need TOOL DEBIAN-PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then missing+=("$1 (Debian package: $2)"); fi
}
need wrk wrk
need haproxy haproxy
need curl curl
need "$PYTHON" python3
need swift "a Swift 6 toolchain from swift.org"
if ((${#missing[@]})); then
    log "bench-proxy: missing tools:"
    for m in "${missing[@]}"; do log "  - $m"; done
    log "install them (e.g. apt-get install -y wrk haproxy curl python3) and run again."
    exit 0
fi
for optional in "hey:hey" "h2load:nghttp2-client"; do
    command -v "${optional%%:*}" >/dev/null 2>&1 ||
        log "note: ${optional%%:*} not found (optional, Debian package ${optional#*:}); the latency run uses bench_proxy_client.py"
done

# ---------------------------------------------------------------- build

if [[ "$SKIP_BUILD" != "1" ]]; then
    for product in mcp-recorder bench-backend proxy-bench; do
        log "==> swift build -c release $SWIFT_BUILD_FLAGS --product $product --scratch-path $SCRATCH"
        swift build -c release $SWIFT_BUILD_FLAGS --product "$product" --scratch-path "$SCRATCH" >&2
    done
fi
BIN_DIR="$(swift build -c release $SWIFT_BUILD_FLAGS --scratch-path "$SCRATCH" --show-bin-path)"
RECORDER="$BIN_DIR/mcp-recorder"
BACKEND="$BIN_DIR/bench-backend"
for b in "$RECORDER" "$BACKEND" "$BIN_DIR/proxy-bench"; do
    [[ -x "$b" ]] || { log "no binary at $b (build it, or unset SKIP_BUILD)"; exit 0; }
done

# ---------------------------------------------------------------- processes

PIDS=()
CURRENT="" # the measurement running now (see `measure`)
cleanup() {
    local rc=$? pid
    [[ -z "$CURRENT" ]] || kill "$CURRENT" 2>/dev/null || true
    ((rc == 0)) || log "bench-proxy: stopped early (status $rc); see the output above and $BENCH_DIR/logs"
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    exit 0 # a benchmark, not a test
}
trap cleanup EXIT
trap 'log "bench-proxy: interrupted"; exit 0' INT TERM

P_BACKEND_TRIVIAL=$((BASE_PORT + 1)); P_BACKEND_MCP=$((BASE_PORT + 2))
P_SIDECAR_TRIVIAL=$((BASE_PORT + 11)); P_SIDECAR_MCP=$((BASE_PORT + 12))
P_ADMIN_TRIVIAL=$((BASE_PORT + 21)); P_ADMIN_MCP=$((BASE_PORT + 22))
P_HAPROXY_TRIVIAL=$((BASE_PORT + 31)); P_HAPROXY_MCP=$((BASE_PORT + 32))
for port in $P_BACKEND_TRIVIAL $P_BACKEND_MCP $P_SIDECAR_TRIVIAL $P_SIDECAR_MCP $P_ADMIN_TRIVIAL $P_ADMIN_MCP $P_HAPROXY_TRIVIAL $P_HAPROXY_MCP; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        log "port $port is in use (set BASE_PORT)"; exit 0
    fi
done

# Only what an earlier run left there (BENCH_DIR may be a directory of the user's).
rm -rf "$BENCH_DIR/spool-trivial" "$BENCH_DIR/spool-mcp" "$BENCH_DIR/logs"
rm -f "$BENCH_DIR/results.jsonl" "$BENCH_DIR/results.md" "$BENCH_DIR/haproxy.cfg" "$BENCH_DIR/post.lua" "$BENCH_DIR/measure.out"
mkdir -p "$BENCH_DIR/spool-trivial" "$BENCH_DIR/spool-mcp" "$BENCH_DIR/logs"
RESULTS="$BENCH_DIR/results.jsonl"
: >"$RESULTS"

wait_http() { # wait_http URL — up to 10 s
    for _ in $(seq 100); do
        curl -fsS -o /dev/null -m 1 "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    log "no answer from $1"; return 1
}

start_named() { # start_named NAME COMMAND... — logs to BENCH_DIR/logs/NAME.log, sets STARTED_PID
    local name="$1"; shift
    "$@" >"$BENCH_DIR/logs/$name.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
}

# measure COMMAND... — runs a measurement in the background, its stdout to
# $MEASURED, and waits for it: a trapped SIGTERM/SIGINT interrupts `wait` at once,
# where bash would defer it until a foreground command ends.
MEASURED="$BENCH_DIR/measure.out"
measure() {
    "$@" >"$MEASURED" &
    CURRENT=$!
    wait "$CURRENT" || true
    CURRENT=""
}

record() { # record KEY JSON (an empty JSON argument, from a failed measurement, becomes {})
    local value="$2"
    [[ -n "$value" ]] || value='{}'
    printf '{"key":"%s","value":%s}\n' "$1" "$value" >>"$RESULTS"
    log "    $1: $value"
}

log "==> starting backends, sidecars and HAProxy under $BENCH_DIR"
start_named backend-trivial "$BACKEND" --port "$P_BACKEND_TRIVIAL" --delay-ms 0 --threads "$BACKEND_THREADS"
start_named backend-mcp "$BACKEND" --port "$P_BACKEND_MCP" --delay-ms 1 --threads "$BACKEND_THREADS"

SIDECAR_ARGS=(--spool-max-bytes 8GiB --log-level warning)
start_named sidecar-trivial "$RECORDER" sidecar --listen "127.0.0.1:$P_SIDECAR_TRIVIAL" --upstream "127.0.0.1:$P_BACKEND_TRIVIAL" \
    --spool "$BENCH_DIR/spool-trivial" --admin-listen "127.0.0.1:$P_ADMIN_TRIVIAL" --stream bench-trivial "${SIDECAR_ARGS[@]}"
SIDECAR_TRIVIAL_PID=$STARTED_PID
start_named sidecar-mcp "$RECORDER" sidecar --listen "127.0.0.1:$P_SIDECAR_MCP" --upstream "127.0.0.1:$P_BACKEND_MCP" \
    --spool "$BENCH_DIR/spool-mcp" --admin-listen "127.0.0.1:$P_ADMIN_MCP" --stream bench-mcp "${SIDECAR_ARGS[@]}"
SIDECAR_MCP_PID=$STARTED_PID

cat >"$BENCH_DIR/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    option http-keep-alive
    # Send what arrived at once instead of waiting for more (MSG_MORE): without
    # it HAProxy holds small SSE chunks back ~100-200 ms. No effect on wrk numbers.
    option http-no-delay
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe_trivial
    bind 127.0.0.1:$P_HAPROXY_TRIVIAL
    default_backend be_trivial
frontend fe_mcp
    bind 127.0.0.1:$P_HAPROXY_MCP
    default_backend be_mcp
backend be_trivial
    server s1 127.0.0.1:$P_BACKEND_TRIVIAL
backend be_mcp
    server s1 127.0.0.1:$P_BACKEND_MCP
EOF
haproxy -c -q -f "$BENCH_DIR/haproxy.cfg" >&2
start_named haproxy haproxy -db -f "$BENCH_DIR/haproxy.cfg"
HAPROXY_PID=$STARTED_PID

wait_http "http://127.0.0.1:$P_BACKEND_TRIVIAL/sse?events=0"
wait_http "http://127.0.0.1:$P_BACKEND_MCP/sse?events=0"
wait_http "http://127.0.0.1:$P_ADMIN_TRIVIAL/readyz"
wait_http "http://127.0.0.1:$P_ADMIN_MCP/readyz"
wait_http "http://127.0.0.1:$P_HAPROXY_TRIVIAL/sse?events=0"
sleep 1

# Idle RSS: right after start, before any proxied traffic.
record rss.idle.trivial "$("$PYTHON" "$CLIENT" rss --pid "$SIDECAR_TRIVIAL_PID")"
record rss.idle.mcp "$("$PYTHON" "$CLIENT" rss --pid "$SIDECAR_MCP_PID")"

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

port_of() { # port_of BACKEND TARGET
    case "$1.$2" in
        trivial.direct) echo "$P_BACKEND_TRIVIAL" ;; mcp.direct) echo "$P_BACKEND_MCP" ;;
        trivial.sidecar) echo "$P_SIDECAR_TRIVIAL" ;; mcp.sidecar) echo "$P_SIDECAR_MCP" ;;
        trivial.haproxy) echo "$P_HAPROXY_TRIVIAL" ;; mcp.haproxy) echo "$P_HAPROXY_MCP" ;;
    esac
}
pid_of() { # pid_of BACKEND TARGET — the proxy's pid, empty for direct
    case "$1.$2" in
        trivial.sidecar) echo "$SIDECAR_TRIVIAL_PID" ;; mcp.sidecar) echo "$SIDECAR_MCP_PID" ;;
        *.haproxy) echo "$HAPROXY_PID" ;; *) echo "" ;;
    esac
}
cpu_ticks() { # utime+stime of a process, in clock ticks
    [[ -n "$1" ]] || { echo 0; return; }
    sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# ---------------------------------------------------------------- 1. latency at RATE req/s (first, so that the RSS maximum is that of this load)

for backend in trivial mcp; do
    for target in direct sidecar haproxy; do
        port="$(port_of $backend $target)"
        pid="$(pid_of $backend $target)"
        log "==> $RATE req/s $backend/$target: 1 s warm-up, then $LAT_SECONDS s"
        watch=()
        [[ -n "$pid" ]] && watch=(--watch-pid "$pid")
        measure "$PYTHON" "$CLIENT" rate --port "$port" --rate "$RATE" --duration "$LAT_SECONDS" --warmup 1 "${watch[@]}"
        record "lat.$backend.$target" "$(cat "$MEASURED")"
    done
done

# ---------------------------------------------------------------- 2. throughput

cat >"$BENCH_DIR/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_docs","arguments":{"query":"deployment guide for the pod namespace","limit":10},"_meta":{"progressToken":1}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"errors":%d,"errors_status":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
        summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status, e.status,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
EOF

CLK_TCK="$(getconf CLK_TCK)"
for backend in trivial mcp; do
    for target in direct sidecar haproxy; do
        port="$(port_of $backend $target)"
        pid="$(pid_of $backend $target)"
        url="http://127.0.0.1:$port/mcp"
        log "==> wrk $backend/$target: warm-up 2 s, then ${WRK_SECONDS} s ($WRK_THREADS threads, $WRK_CONNECTIONS connections)"
        measure wrk -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d 2s -s "$BENCH_DIR/post.lua" "$url"
        before="$(cpu_ticks "$pid")"
        # `watch` runs wrk while sampling the proxy's RSS (the script's own pid for direct).
        measure "$PYTHON" "$CLIENT" watch --pid "${pid:-$$}" --interval 0.1 -- \
            wrk -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d "${WRK_SECONDS}s" -s "$BENCH_DIR/post.lua" "$url"
        watched="$(cat "$MEASURED")"
        after="$(cpu_ticks "$pid")"
        record "wrk.$backend.$target" "$("$PYTHON" -c '
import json, sys
w = json.loads(sys.argv[1] or "{}")
lines = [l for l in w.get("output", "").splitlines() if l.startswith("WRKJSON ")]
if not lines:
    print(w.get("output", "wrk failed"), file=sys.stderr)
    print("{}")
    sys.exit(0)
d = json.loads(lines[0][len("WRKJSON "):])
d["rps"] = round(d["requests"] / (d["duration_us"] / 1e6), 1)
ticks, hz, pid = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if pid:
    d["proxy_cpu_s"] = round(ticks / hz, 2)
    d["proxy_cpu_us_per_req"] = round(ticks / hz * 1e6 / max(1, d["requests"]), 1)
    d["rss_max_kib"] = w.get("rss_max_kib")
print(json.dumps(d))' "$watched" "$((after - before))" "$CLK_TCK" "$pid")"
    done
done

# ---------------------------------------------------------------- 3. SSE

for target in direct sidecar haproxy; do
    port="$(port_of trivial $target)"
    log "==> SSE $target: $SSE_RUNS × /sse?events=$SSE_EVENTS&interval-ms=$SSE_INTERVAL_MS"
    measure "$PYTHON" "$CLIENT" sse --port "$port" --events "$SSE_EVENTS" --interval-ms "$SSE_INTERVAL_MS" --runs "$SSE_RUNS"
    record "sse.$target" "$(cat "$MEASURED")"
done

# ---------------------------------------------------------------- 4. a 100 MB body

# As bytes (application/octet-stream), then as one JSON-RPC result (application/json: the
# sidecar redacts it and skims it for its JSON-RPC message as it streams), then as that result
# in one Server-Sent Event (text/event-stream, as MCP servers stream results).
for body in big bigjson bigsse; do
    query="mb=$BIG_MB"
    [[ $body == bigjson ]] && query="$query&json=1"
    [[ $body == bigsse ]] && query="$query&sse=1"
    for target in direct haproxy sidecar; do
        port="$(port_of trivial $target)"
        pid="$(pid_of trivial $target)"
        log "==> GET /big?$query via $target (curl to /dev/null)"
        measure "$PYTHON" "$CLIENT" watch --pid "${pid:-$$}" -- \
            curl -sS -o /dev/null -w '%{http_code} %{size_download} bytes' "http://127.0.0.1:$port/big?$query"
        record "$body.$target" "$(cat "$MEASURED")"
    done
done

sleep 1
record rss.end.trivial "$("$PYTHON" "$CLIENT" rss --pid "$SIDECAR_TRIVIAL_PID")"
record rss.end.mcp "$("$PYTHON" "$CLIENT" rss --pid "$SIDECAR_MCP_PID")"
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
spool_text="trivial $(du -sh "$BENCH_DIR/spool-trivial" | cut -f1) in $(find "$BENCH_DIR/spool-trivial" -type f | wc -l) files, mcp $(du -sh "$BENCH_DIR/spool-mcp" | cut -f1) in $(find "$BENCH_DIR/spool-mcp" -type f | wc -l) files"
record spool "$("$PYTHON" -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "$spool_text")"

for name in sidecar-trivial sidecar-mcp; do
    if grep -qiE 'error|critical' "$BENCH_DIR/logs/$name.log"; then
        log "note: $name logged errors:"; grep -iE 'error|critical' "$BENCH_DIR/logs/$name.log" | head -5 >&2
    fi
done

# ---------------------------------------------------------------- report

CPU_MODEL="$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
export BENCH_NPROC="$(nproc 2>/dev/null || echo unknown)"
export BENCH_CPU="${CPU_MODEL:-unknown}"
export BENCH_SWIFT="$(swift --version 2>&1 | head -n1)"
export BENCH_KERNEL="$(uname -sr)"
export BENCH_HAPROXY="$(haproxy -v 2>&1 | head -n1 | cut -d' ' -f1-3)"
export BENCH_WRK="$(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)"
export BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
export BENCH_COMMAND="$COMMAND"
export BENCH_LOAD_BEFORE="$LOAD_BEFORE" BENCH_LOAD_AFTER="$LOAD_AFTER"
export BENCH_SIDECAR_ARGS="recording on (capture full, ISA-L level 1, no message copies, fsync every 1 s), spool under $BENCH_DIR, ${SIDECAR_ARGS[*]}"
export BENCH_WRK_SHAPE="$WRK_THREADS threads, $WRK_CONNECTIONS connections, ${WRK_SECONDS} s after 2 s warm-up"
export BENCH_RATE="$RATE" BENCH_WRK_CONNECTIONS="$WRK_CONNECTIONS"
export BENCH_LAT_SHAPE="bench_proxy_client.py, $LAT_SECONDS s after 1 s warm-up, 16 keep-alive connections, latency from send to complete response"
export BENCH_SSE_EVENTS="$SSE_EVENTS" BENCH_SSE_INTERVAL="$SSE_INTERVAL_MS" BENCH_SSE_RUNS="$SSE_RUNS" BENCH_BIG_MB="$BIG_MB"

"$PYTHON" "$CLIENT" report "$RESULTS" | tee "$BENCH_DIR/results.md"

# ---------------------------------------------------------------- 5. allocations per exchange

# proxy-bench drives the sidecar's pure core (and then its writer) through the same POST /mcp
# exchange without sockets and counts heap allocations per exchange (malloc interposed).
# A count above the committed budget is a regression: find it before raising the budget.
log "==> proxy-bench: allocations per exchange"
{
    printf '\n### Allocations per exchange (proxy-bench, %s exchanges, no sockets)\n\n' "$ALLOC_EXCHANGES"
    printf '| inline messages | records | record bytes | core allocations (budget) | core µs | core + writer allocations (budget) | core + writer µs | verdict |\n|---|---:|---:|---:|---:|---:|---:|---|\n'
    for mode in none small; do
        "$BIN_DIR/proxy-bench" --exchanges "$ALLOC_EXCHANGES" --inline-messages "$mode" --dir "$BENCH_DIR/spool-proxy-bench" \
            | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
core_budget, writer_budget = float(sys.argv[1]), float(sys.argv[2])
core, writer = d["core_allocations_per_exchange"], d["writer_allocations_per_exchange"]
mode, records, record_bytes = d["inline_messages"], d["records_per_exchange"], d["record_bytes_per_exchange"]
core_us, writer_us = d["core_ns_per_exchange"] / 1000, d["writer_ns_per_exchange"] / 1000
verdict = "within budget" if core <= core_budget and writer <= writer_budget else "**OVER BUDGET: a regression**"
print(f"| {mode} | {records:.0f} | {record_bytes:.0f} | {core:.1f} ({core_budget:g}) | {core_us:.1f} | {writer:.1f} ({writer_budget:g}) | {writer_us:.1f} | {verdict} |")
' "$(budget_of "$mode" core)" "$(budget_of "$mode" writer)"
    done
} | tee -a "$BENCH_DIR/results.md"
log "(raw results: $RESULTS; logs: $BENCH_DIR/logs)"
exit 0
