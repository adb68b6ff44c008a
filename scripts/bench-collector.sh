#!/usr/bin/env bash
# Benchmark of the collector (issue 4): ingest throughput (MB/s of compressed segment
# bytes, segments/s, per-upload latency) and GET /v1/sessions latency over ≥100k
# indexed exchanges, with two references measured in the same run:
#   - zlib: Python's zlib decompressing the same segment bytes on one core (the
#     collector must at least decompress and parse everything: a floor);
#   - nginx: a store-only HTTPS PUT sink (dav_methods PUT) given the same files at
#     the same concurrency by the same client.
#
# Steps:
#   1. builds `mcp-recorder` and `collector-bench` in release mode (--scratch-path .build-release);
#   2. `collector-bench generate`: EXCHANGES exchanges of MCP traffic (sessions with
#      initialize, tools/list, tool calls over SSE and JSON, errors) for STREAMS
#      streams, written by the real SegmentWriter into SEGMENT_KIB-sized sealed
#      segments (reused when BENCH_DIR/segments was made with the same parameters);
#   3. per round: zlib reference; upload to nginx; upload to a fresh collector
#      (`mcp-recorder collector --tls-self-signed`, static tokens, data under BENCH_DIR);
#      the CPU time of nginx and of the collector during their uploads;
#   4. after the last round, on that collector: counts the indexed sessions and
#      exchanges through the API (and with sqlite3 when installed), then times
#      LIST_REQUESTS sequential GET /v1/sessions per query;
#   5. on a fresh collector, times BUSY_REQUESTS default-page requests while the
#      whole data set is being uploaded to it (reads during ingest);
#   6. times the web UI's pages next to the API requests for the same data;
#   7. prints a Markdown report (also BENCH_DIR/results.md). Exits 0 unless a
#      measurement itself failed (an upload answered anything but 201, say).
#
# Needs: swift, python3, curl, nginx with http_dav_module (Debian 12: apt-get install nginx).
# Optional: sqlite3 (cross-checks the exchange count in the index).
#
# Environment:
#   STREAMS        streams (sidecars) generated                 (default 8)
#   EXCHANGES      HTTP exchanges generated, at least           (default 110000)
#   CONNECTIONS    concurrent sessions per stream in the traffic (default 4)
#   SEGMENT_KIB    segment size at which the writer seals, KiB  (default 512)
#   LEVEL          zlib level of the generated segments         (default 6)
#   SEED           traffic seed                                 (default 42)
#   CONCURRENCY    uploads in flight (streams uploading at once) (default 8)
#   RUNS           rounds of zlib / nginx / collector           (default 1)
#   LIST_REQUESTS  timed requests per list query                (default 200)
#   BUSY_REQUESTS  default-page requests timed while a fresh collector ingests
#                  the whole data set (0 to skip)                (default 50)
#   NGINX_WORKERS  nginx worker_processes                       (default auto)
#   BASE_PORT      collector on BASE_PORT, nginx on +1          (default 18400)
#   BENCH_DIR      working directory  (default ${TMPDIR:-/tmp}/mcp-recorder-bench-collector)
#   SKIP_BUILD     1 to reuse an existing release build         (default 0)
#   BIN_DIR        where mcp-recorder and collector-bench are   (default: swift build --show-bin-path)
#   SWIFT_BUILD_FLAGS  extra `swift build` flags, e.g. --static-swift-stdlib to share
#                  .build-release with scripts/image-test.sh     (default none)
#   PYTHON         Python 3 interpreter                         (default python3)
set -euo pipefail

STREAMS="${STREAMS:-8}"
EXCHANGES="${EXCHANGES:-110000}"
CONNECTIONS="${CONNECTIONS:-4}"
SEGMENT_KIB="${SEGMENT_KIB:-512}"
LEVEL="${LEVEL:-6}"
SEED="${SEED:-42}"
CONCURRENCY="${CONCURRENCY:-8}"
RUNS="${RUNS:-1}"
LIST_REQUESTS="${LIST_REQUESTS:-200}"
BUSY_REQUESTS="${BUSY_REQUESTS:-50}"
NGINX_WORKERS="${NGINX_WORKERS:-auto}"
BASE_PORT="${BASE_PORT:-18400}"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/mcp-recorder-bench-collector}"
SKIP_BUILD="${SKIP_BUILD:-0}"
SWIFT_BUILD_FLAGS="${SWIFT_BUILD_FLAGS:-}"
PYTHON="${PYTHON:-python3}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCRATCH=".build-release"
COMMAND="STREAMS=$STREAMS EXCHANGES=$EXCHANGES SEGMENT_KIB=$SEGMENT_KIB CONCURRENCY=$CONCURRENCY RUNS=$RUNS LIST_REQUESTS=$LIST_REQUESTS BUSY_REQUESTS=$BUSY_REQUESTS${SWIFT_BUILD_FLAGS:+ SWIFT_BUILD_FLAGS=$SWIFT_BUILD_FLAGS} scripts/bench-collector.sh"

log() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- tools

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package: $2)"); }
need swift "a Swift 6 toolchain from swift.org"
need "$PYTHON" python3
need curl curl
need nginx nginx
if ((${#missing[@]})); then
    log "bench-collector: missing tools:"
    for m in "${missing[@]}"; do log "  - $m"; done
    exit 1
fi
if ! nginx -V 2>&1 | grep -q -- --with-http_dav_module; then
    log "bench-collector: this nginx has no http_dav_module (needed for PUT); Debian's nginx package has it"
    exit 1
fi
HAVE_SQLITE=0
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1 || log "note: sqlite3 not found (optional); the exchange count comes from the API alone"

# ---------------------------------------------------------------- build

if [[ "$SKIP_BUILD" != "1" ]]; then
    for product in mcp-recorder collector-bench; do
        log "==> swift build -c release $SWIFT_BUILD_FLAGS --product $product --scratch-path $SCRATCH"
        # shellcheck disable=SC2086 # flags are words
        swift build -c release $SWIFT_BUILD_FLAGS --product "$product" --scratch-path "$SCRATCH" >&2
    done
fi
# shellcheck disable=SC2086
[[ -n "${BIN_DIR:-}" ]] || BIN_DIR="$(swift build -c release $SWIFT_BUILD_FLAGS --scratch-path "$SCRATCH" --show-bin-path)"
RECORDER="$BIN_DIR/mcp-recorder"
DRIVER="$BIN_DIR/collector-bench"
for b in "$RECORDER" "$DRIVER"; do
    [[ -x "$b" ]] || { log "no binary at $b (build it, or unset SKIP_BUILD)"; exit 1; }
done

# ---------------------------------------------------------------- processes

COLLECTOR_PID=""
NGINX_PID=""
BUSY_UPLOAD_PID=""
cleanup() {
    local rc=$?
    ((rc == 0)) || log "bench-collector: stopped early (status $rc); logs under $BENCH_DIR"
    for pid in $BUSY_UPLOAD_PID $COLLECTOR_PID $NGINX_PID; do
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'log "bench-collector: interrupted"; exit 130' INT TERM

P_COLLECTOR=$BASE_PORT
P_NGINX=$((BASE_PORT + 1))
for port in $P_COLLECTOR $P_NGINX; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then log "port $port is in use (set BASE_PORT)"; exit 1; fi
done

mkdir -p "$BENCH_DIR"
RESULTS="$BENCH_DIR/results.jsonl"
: >"$RESULTS"
record() { # record KEY JSON
    local value="${2:-}"
    [[ -n "$value" ]] || value='{}'
    printf '{"key":"%s","value":%s}\n' "$1" "$value" >>"$RESULTS"
    log "    $1: $value"
}
cpu_ticks() { # utime+stime of processes, in clock ticks
    local total=0 pid
    for pid in "$@"; do
        [[ -r "/proc/$pid/stat" ]] || continue
        total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}

# ---------------------------------------------------------------- 1. segments

SEGMENTS="$BENCH_DIR/segments"
# The driver's hash is part of the key: a changed generator makes new segments.
PARAMS="streams=$STREAMS exchanges=$EXCHANGES connections=$CONNECTIONS segment_kib=$SEGMENT_KIB level=$LEVEL seed=$SEED driver=$(sha256sum "$DRIVER" | cut -c1-16)"
if [[ -f "$SEGMENTS/manifest.json" && -f "$SEGMENTS/params" && "$(cat "$SEGMENTS/params")" == "$PARAMS" ]]; then
    log "==> reusing the segments in $SEGMENTS ($PARAMS)"
else
    log "==> generating segments ($PARAMS) into $SEGMENTS"
    rm -rf "$SEGMENTS"
    mkdir -p "$SEGMENTS"
    "$DRIVER" generate --dir "$SEGMENTS" --streams "$STREAMS" --exchanges "$EXCHANGES" --connections "$CONNECTIONS" \
        --segment-kib "$SEGMENT_KIB" --level "$LEVEL" --seed "$SEED" >/dev/null
    printf '%s' "$PARAMS" >"$SEGMENTS/params"
fi
record manifest "$(cat "$SEGMENTS/manifest.json")"

# ---------------------------------------------------------------- tokens, nginx

INGEST_TOKEN_FILE="$BENCH_DIR/ingest.token"
ADMIN_TOKEN_FILE="$BENCH_DIR/admin.token"
[[ -s "$INGEST_TOKEN_FILE" ]] || "$PYTHON" -c 'import secrets; print(secrets.token_hex(24))' >"$INGEST_TOKEN_FILE"
[[ -s "$ADMIN_TOKEN_FILE" ]] || "$PYTHON" -c 'import secrets; print(secrets.token_hex(24))' >"$ADMIN_TOKEN_FILE"
INGEST_TOKEN="$(cat "$INGEST_TOKEN_FILE")"
ADMIN_TOKEN="$(cat "$ADMIN_TOKEN_FILE")"

wait_https() { # wait_https URL CA — up to 20 s
    for _ in $(seq 200); do
        [[ -s "$2" ]] && curl -fsS -o /dev/null -m 1 --cacert "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    log "no answer from $1"; return 1
}

start_collector() { # start_collector ROUND — a fresh data directory
    local dir="$BENCH_DIR/run$1"
    rm -rf "$dir"
    mkdir -p "$dir"
    "$RECORDER" collector --listen "127.0.0.1:$P_COLLECTOR" --data "$dir/data" --tls-self-signed --tls-self-signed-dir "$dir/tls" \
        --ingest-token-file "$INGEST_TOKEN_FILE" --admin-token-file "$ADMIN_TOKEN_FILE" --log-level warning >"$dir/collector.log" 2>&1 &
    COLLECTOR_PID=$!
    COLLECTOR_DIR="$dir"
    COLLECTOR_CA="$dir/tls/ca.pem"
    wait_https "https://127.0.0.1:$P_COLLECTOR/healthz" "$COLLECTOR_CA"
}

stop_collector() {
    kill -TERM "$COLLECTOR_PID" 2>/dev/null || true
    wait "$COLLECTOR_PID" 2>/dev/null || true
    COLLECTOR_PID=""
}

start_nginx() { # TLS material: the first collector's self-signed certificate
    local dir="$BENCH_DIR/nginx"
    rm -rf "$dir"
    mkdir -p "$dir/tls" "$dir/body" "$dir/store"
    cp "$COLLECTOR_DIR/tls/ca.pem" "$COLLECTOR_DIR/tls/tls.crt" "$COLLECTOR_DIR/tls/tls.key" "$dir/tls/"
    cat >"$dir/nginx.conf" <<EOF
user root;
worker_processes $NGINX_WORKERS;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/body;
    fastcgi_temp_path $dir/body;
    uwsgi_temp_path $dir/body;
    scgi_temp_path $dir/body;
    server {
        listen 127.0.0.1:$P_NGINX ssl;
        ssl_certificate $dir/tls/tls.crt;
        ssl_certificate_key $dir/tls/tls.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        keepalive_requests 1000000;
        client_max_body_size 64m;
        location = /healthz { return 200 "ok\n"; }
        location /v1/streams/ {
            root $dir/store;
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
        }
    }
}
EOF
    nginx -t -q -c "$dir/nginx.conf" -e "$dir/error.log" >&2
    nginx -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/nginx.log" 2>&1 &
    NGINX_PID=$!
    NGINX_CA="$dir/tls/ca.pem"
    NGINX_STORE="$dir/store"
    wait_https "https://127.0.0.1:$P_NGINX/healthz" "$NGINX_CA"
}

nginx_pids() { echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }

# ---------------------------------------------------------------- 2. rounds

ZLIB_PY='
import glob, json, os, sys, time, zlib
files = sorted(glob.glob(os.path.join(sys.argv[1], "*", "*.seg.gz")))
blobs = [open(f, "rb").read() for f in files]
start = time.perf_counter()
raw = members = 0
for data in blobs:
    while data:
        d = zlib.decompressobj(31)
        raw += len(d.decompress(data))
        members += 1
        data = d.unused_data
seconds = time.perf_counter() - start
total = sum(map(len, blobs))
print(json.dumps({"files": len(files), "bytes": total, "raw_bytes": raw, "members": members, "seconds": seconds,
                  "mb_per_s": total / seconds / 1e6, "segments_per_s": len(files) / seconds, "zlib": zlib.ZLIB_RUNTIME_VERSION}))
'

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= RUNS; round++)); do
    log "==> round $round/$RUNS: zlib reference"
    record "zlib.$round" "$("$PYTHON" -c "$ZLIB_PY" "$SEGMENTS")"

    start_collector "$round"
    [[ -n "$NGINX_PID" ]] || start_nginx

    log "==> round $round/$RUNS: upload to nginx (store-only PUT sink)"
    rm -rf "${NGINX_STORE:?}"/*
    sync
    before=$(cpu_ticks $(nginx_pids))
    out="$("$DRIVER" upload --url "https://127.0.0.1:$P_NGINX" --ca "$NGINX_CA" --token "$INGEST_TOKEN" --concurrency "$CONCURRENCY" --label nginx "$SEGMENTS")"
    after=$(cpu_ticks $(nginx_pids))
    record "nginx.$round" "$out"
    record "nginx_cpu.$round" "{\"ticks\":$((after - before)),\"hz\":$(getconf CLK_TCK)}"

    log "==> round $round/$RUNS: upload to the collector"
    sync
    before=$(cpu_ticks "$COLLECTOR_PID")
    out="$("$DRIVER" upload --url "https://127.0.0.1:$P_COLLECTOR" --ca "$COLLECTOR_CA" --token "$INGEST_TOKEN" --concurrency "$CONCURRENCY" --label collector "$SEGMENTS")"
    after=$(cpu_ticks "$COLLECTOR_PID")
    record "collector.$round" "$out"
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$COLLECTOR_PID/status")
    seg_bytes=$(du -sb "$COLLECTOR_DIR/data/segments" | cut -f1)
    index_bytes=$(cat "$COLLECTOR_DIR"/data/index.sqlite* | wc -c)
    record "collector_cpu.$round" "{\"ticks\":$((after - before)),\"hz\":$(getconf CLK_TCK),\"vmhwm_kib\":$hwm,\"segment_bytes\":$seg_bytes,\"index_bytes\":$index_bytes}"
    if ((round < RUNS)); then stop_collector; rm -rf "$COLLECTOR_DIR/data"; fi # 0.8 GB each; the last one is kept
done
rm -rf "${NGINX_STORE:?}"/*
LOAD_AFTER_UPLOADS="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- 3. list latency

sleep 2
if ((HAVE_SQLITE)); then
    counts="$(sqlite3 -readonly "$COLLECTOR_DIR/data/index.sqlite" "SELECT (SELECT COUNT(*) FROM exchanges) || ' ' || (SELECT COUNT(*) FROM sessions) || ' ' || (SELECT COUNT(*) FROM calls);")"
    read -r n_ex n_se n_ca <<<"$counts"
    record sqlite "{\"exchanges\":$n_ex,\"sessions\":$n_se,\"calls\":$n_ca}"
fi
log "==> GET /v1/sessions latency ($LIST_REQUESTS requests per query)"
out="$("$DRIVER" list --url "https://127.0.0.1:$P_COLLECTOR" --ca "$COLLECTOR_CA" --token "$ADMIN_TOKEN" --requests "$LIST_REQUESTS" --manifest "$SEGMENTS/manifest.json")"
record list "$out"
log "==> web UI pages next to the API requests reading the same data ($LIST_REQUESTS requests per page)"
out="$("$DRIVER" ui --url "https://127.0.0.1:$P_COLLECTOR" --ca "$COLLECTOR_CA" --token "$ADMIN_TOKEN" --requests "$LIST_REQUESTS" --manifest "$SEGMENTS/manifest.json")"
record ui "$out"

if ((BUSY_REQUESTS > 0)); then
    stop_collector
    start_collector busy
    log "==> GET /v1/sessions latency while the collector ingests ($BUSY_REQUESTS requests)"
    "$DRIVER" upload --url "https://127.0.0.1:$P_COLLECTOR" --ca "$COLLECTOR_CA" --token "$INGEST_TOKEN" --concurrency "$CONCURRENCY" --label collector-busy "$SEGMENTS" >"$BENCH_DIR/busy-upload.json" &
    busy_upload=$!
    BUSY_UPLOAD_PID=$busy_upload
    sleep 3
    running_at_start=false; kill -0 "$busy_upload" 2>/dev/null && running_at_start=true
    out="$("$DRIVER" list --url "https://127.0.0.1:$P_COLLECTOR" --ca "$COLLECTOR_CA" --token "$ADMIN_TOKEN" --requests "$BUSY_REQUESTS" --default-only)"
    running_at_end=false; kill -0 "$busy_upload" 2>/dev/null && running_at_end=true
    wait "$busy_upload"
    BUSY_UPLOAD_PID=""
    stop_collector
    rm -rf "$COLLECTOR_DIR/data"
    record busy_list "$out"
    record busy_upload "$(cat "$BENCH_DIR/busy-upload.json")"
    record busy_timing "{\"upload_running_at_start\":$running_at_start,\"upload_running_at_end\":$running_at_end}"
fi
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- 4. report

export BENCH_NPROC="$(nproc)"
export BENCH_CPU="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
export BENCH_MEM="$(awk '/MemTotal/ {printf "%.0f GB", $2 / 1e6}' /proc/meminfo)"
export BENCH_SWIFT="$(swift --version 2>&1 | head -n1)"
export BENCH_KERNEL="$(uname -sr)"
export BENCH_NGINX="$(nginx -v 2>&1 | sed 's/^nginx version: //')"
export BENCH_COMMAND="$COMMAND"
export BENCH_LOAD="before $LOAD_BEFORE; after the uploads $LOAD_AFTER_UPLOADS; at the end $LOAD_AFTER"
export BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources ':!Sources/Benchmarks' 2>/dev/null || echo ' (with uncommitted changes under Sources/)')"
export NGINX_WORKERS CONCURRENCY

"$PYTHON" - "$RESULTS" <<'PY' | tee "$BENCH_DIR/results.md"
import json, os, sys

results = {}
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        results[r["key"]] = r["value"]
env = os.environ
m = results["manifest"]
rounds = sorted(int(k.split(".")[1]) for k in results if k.startswith("collector."))

def best(prefix):
    return max((results[f"{prefix}.{r}"] for r in rounds), key=lambda x: x["mb_per_s"])

col, ngx, zl = best("collector"), best("nginx"), best("zlib")
mb = m["segment_bytes"] / 1e6

print()
print("## Collector ingest and session list")
print()
print(f"- Machine: {env['BENCH_NPROC']} CPUs, {env['BENCH_CPU']}, {env['BENCH_MEM']}, {env['BENCH_KERNEL']}")
print(f"- Toolchain: {env['BENCH_SWIFT']}; {env['BENCH_NGINX']} (worker_processes {env['NGINX_WORKERS']}); zlib {zl['zlib']} (Python)")
print(f"- Commit: {env['BENCH_COMMIT']}")
print(f"- Command: `{env['BENCH_COMMAND']}`")
print(f"- Load average: {env['BENCH_LOAD']}")
print(f"- Data: {m['streams']} streams, {m['segments']:,} segments of ≤{m['segment_kib']} KiB (level {m['level']}), "
      f"{m['segment_bytes']:,} segment bytes ({m['record_bytes']:,} bytes of records, {m['record_bytes'] / m['segment_bytes']:.2f}×, "
      f"{m['members']:,} gzip members); {m['records']:,} records; {m['sessions']:,} sessions, {m['exchanges']:,} HTTP exchanges, "
      f"{m['calls']:,} JSON-RPC calls ({m['tool_calls']:,} tools/call; {m['rpc_errors']:,} JSON-RPC errors, {m['tool_errors']:,} isError results, "
      f"{m['http_errors']:,} HTTP errors; {m['large_results']:,} results over the 16 KiB inline limit)")
print(f"- Uploads: {col['concurrency']} in flight (one per stream, each stream in order), AsyncHTTPClient over TLS on loopback, X-Segment-SHA256 sent")
print()
print("### Ingest")
print()
print("| Sink | Seconds | MB/s (segment bytes) | Segments/s | Upload p50 ms | p99 ms | CPU s (server) | Collector ÷ it |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
def cpu(prefix, r):
    c = results.get(f"{prefix}_cpu.{r}")
    return c["ticks"] / c["hz"] if c else None
r_col = rounds[[results[f"collector.{r}"] for r in rounds].index(col)]
r_ngx = rounds[[results[f"nginx.{r}"] for r in rounds].index(ngx)]
def row(name, x, cpu_s, ratio):
    lat = x.get("latency")
    p50 = f"{lat['p50_ms']:.1f}" if lat else "—"
    p99 = f"{lat['p99_ms']:.1f}" if lat else "—"
    c = f"{cpu_s:.1f}" if cpu_s is not None else "—"
    print(f"| {name} | {x['seconds']:.2f} | {x['mb_per_s']:.1f} | {x['segments_per_s']:.1f} | {p50} | {p99} | {c} | {ratio} |")
row("**collector** (`mcp-recorder collector`)", col, cpu("collector", r_col), "—")
row("nginx, HTTPS PUT to files (store only)", ngx, cpu("nginx", r_ngx), f"**{col['mb_per_s'] / ngx['mb_per_s']:.3f}×**")
print(f"| zlib decompress only (Python, 1 core) | {zl['seconds']:.2f} | {zl['mb_per_s']:.1f} | {zl['segments_per_s']:.1f} | — | — | — | **{col['mb_per_s'] / zl['mb_per_s']:.3f}×** |")
print()
cc = results[f"collector_cpu.{r_col}"]
col_cpu = cc["ticks"] / cc["hz"]
print(f"Collector: {col_cpu:.1f} s of CPU for {mb:.1f} MB ({col_cpu / mb * 1000:.1f} ms per MB of segments, "
      f"{col_cpu / m['exchanges'] * 1e6:.0f} µs per exchange, {col_cpu / m['segments'] * 1000:.1f} ms per segment); "
      f"peak RSS {cc['vmhwm_kib'] / 1024:.0f} MiB; stored {cc['segment_bytes']:,} bytes of segments and an index of {cc['index_bytes']:,} bytes "
      f"({cc['index_bytes'] / cc['segment_bytes']:.2f}× the segments). "
      f"zlib inflated {zl['raw_bytes']:,} bytes from {zl['members']:,} members ({zl['raw_bytes'] / zl['seconds'] / 1e6:.0f} MB/s of output).")
if len(rounds) > 1:
    print()
    print("Rounds (MB/s): " + "; ".join(
        f"{r}: collector {results[f'collector.{r}']['mb_per_s']:.1f}, nginx {results[f'nginx.{r}']['mb_per_s']:.1f}, zlib {results[f'zlib.{r}']['mb_per_s']:.1f}"
        for r in rounds))
print()
lst = results["list"]
sq = results.get("sqlite")
print("### Session list latency")
print()
print(f"Index: {lst['sessions']:,} sessions, {lst['exchanges']:,} exchanges, {lst['calls']:,} calls (sum over `GET /v1/sessions`, "
      f"{lst['census_pages']} pages of 500 in {lst['census_seconds']:.2f} s)"
      + (f"; sqlite3 on index.sqlite: {sq['exchanges']:,} exchanges, {sq['sessions']:,} sessions, {sq['calls']:,} calls" if sq else "") + ".")
print(f"Each query: 3 warm-up requests, then {lst['requests_per_query']} sequential requests on one keep-alive TLS connection, admin token.")
print()
print("| Query | Sessions returned | p50 ms | p90 ms | p99 ms | max ms |")
print("|---|---:|---:|---:|---:|---:|")
for q in lst["queries"]:
    l = q["latency"]
    query = q["query"]
    if not query:
        name = "`GET /v1/sessions` (page of 50)"
    elif query.startswith("cursor="):
        name = "`GET /v1/sessions?cursor=…` (a page from the middle of the list)"
    else:
        name = f"`GET /v1/sessions?{query}`" + (" (common tool)" if "(common)" in q["name"] else " (rare tool)" if "(rare)" in q["name"] else "")
    print(f"| {name} | {q['returned']} | {l['p50_ms']:.2f} | {l['p90_ms']:.2f} | {l['p99_ms']:.2f} | {l['max_ms']:.2f} |")
ui = results.get("ui")
if ui:
    print()
    print("### Web UI pages")
    print()
    print(f"Signed in through the form with the admin token; {ui['requests_per_page']} sequential requests per page on one keep-alive TLS "
          "connection, each followed by the JSON API request that reads the same data (3 warm-up pairs first). "
          "Time to the last byte, so it includes TLS on loopback; the page is rendered on the server (Mustache), nothing runs in a browser.")
    print()
    print("| Page | HTML bytes | p50 ms | p90 ms | p99 ms | max ms | API p50 ms | API p99 ms | page ÷ API (p50) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p in ui["pages"]:
        u, a = p["ui_latency"], p["api_latency"]
        print(f"| {p['name']} (`{p['ui'].split('?')[0]}`) | {p['html_bytes']:,} | {u['p50_ms']:.2f} | {u['p90_ms']:.2f} | **{u['p99_ms']:.2f}** | {u['max_ms']:.2f} "
              f"| {a['p50_ms']:.2f} | {a['p99_ms']:.2f} | {u['p50_ms'] / a['p50_ms']:.2f}× |")
busy = results.get("busy_list")
if busy:
    l = busy["queries"][0]["latency"]
    up = results["busy_upload"]
    t = results["busy_timing"]
    during = ("all during the upload" if t["upload_running_at_end"] else
              "the upload ended before the last of them" if t["upload_running_at_start"] else
              "**after** the upload had ended: the data set is too small for this measurement")
    print()
    print(f"While a fresh collector ingests the data set ({up['concurrency']} uploads in flight, {up['mb_per_s']:.1f} MB/s): "
          f"`GET /v1/sessions` (page of 50), {l['n']} sequential requests from 3 s after the upload began ({during}): "
          f"p50 {l['p50_ms']:.2f} ms, p90 {l['p90_ms']:.2f} ms, p99 {l['p99_ms']:.2f} ms, max {l['max_ms']:.2f} ms.")
PY

log "results: $RESULTS; report: $BENCH_DIR/results.md"
