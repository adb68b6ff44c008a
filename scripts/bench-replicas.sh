#!/usr/bin/env bash
# Benchmark of the scale-out collector (issue 22): ingest MB/s and GET /v1/sessions latency
# with 1, 2 and 3 collector replicas on one PostgreSQL index and one S3 bucket, against the
# embedded collector (SQLite + files) in the same run, on the same segments and client.
#
# Steps:
#   1. builds `mcp-recorder` and `collector-bench` in release mode (--scratch-path .build-release);
#   2. `collector-bench generate`: EXCHANGES exchanges of MCP traffic for STREAMS streams (reused
#      when BENCH_DIR/segments was made with the same parameters);
#   3. starts a PostgreSQL 15 (scripts/postgres/postgres.py, TLS on; the collectors connect with
#      sslmode=verify-full) for the whole run;
#   4. per configuration — sqlite+files ×1, then postgres+s3 ×1, ×2, ×3 — fresh storage (a data
#      directory; or a new database and a new RADOS Gateway, scripts/s3/radosgw.py, whose in-memory
#      OSD holds one data set), the replicas started (one self-signed certificate shared by all),
#      every segment uploaded with `collector-bench upload` spreading the streams over the replicas
#      (stream i to replica i mod n, one connection each, as a per-connection balancer would), then
#      `collector-bench list` on the first replica (every list query, LIST_REQUESTS times each);
#   5. prints a Markdown report (also BENCH_DIR/results.md).
#
# Needs: swift, python3, psql and Debian's postgresql-15, ceph-mon, ceph-osd, radosgw, ceph-common.
#
# Environment:
#   STREAMS        streams (sidecars) generated                  (default 12)
#   EXCHANGES      HTTP exchanges generated, at least            (default 40000)
#   CONCURRENCY    uploads in flight (streams uploading at once)  (default 12)
#   LIST_REQUESTS  timed requests per list query                 (default 100)
#   RUNS           rounds of every configuration                 (default 1)
#   BASE_PORT      replicas on BASE_PORT, +1, +2                  (default 18500)
#   BENCH_DIR      working directory  (default ${TMPDIR:-/tmp}/mcp-recorder-bench-replicas)
#   SKIP_BUILD     1 to reuse an existing release build          (default 0)
#   PYTHON         Python 3 interpreter                          (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS="${STREAMS:-12}"
EXCHANGES="${EXCHANGES:-40000}"
CONCURRENCY="${CONCURRENCY:-12}"
LIST_REQUESTS="${LIST_REQUESTS:-100}"
RUNS="${RUNS:-1}"
BASE_PORT="${BASE_PORT:-18500}"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/mcp-recorder-bench-replicas}"
SKIP_BUILD="${SKIP_BUILD:-0}"
PYTHON="${PYTHON:-python3}"
SCRATCH=.build-release

log() { printf '%s\n' "$*" >&2; }
mkdir -p "$BENCH_DIR"
RESULTS="$BENCH_DIR/results.jsonl"
: >"$RESULTS"
record() { printf '{"key":"%s","value":%s}\n' "$1" "$2" >>"$RESULTS"; }

# ---------------------------------------------------------------- build, data

if [[ "$SKIP_BUILD" != "1" ]]; then
    for product in mcp-recorder collector-bench; do
        log "==> swift build -c release --product $product --scratch-path $SCRATCH"
        swift build -c release --product "$product" --scratch-path "$SCRATCH" >&2
    done
fi
BIN_DIR="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
RECORDER="$BIN_DIR/mcp-recorder"
DRIVER="$BIN_DIR/collector-bench"

SEGMENTS="$BENCH_DIR/segments"
PARAMS="streams=$STREAMS exchanges=$EXCHANGES seed=42 driver=$(sha256sum "$DRIVER" | cut -c1-16)"
if [[ "$(cat "$SEGMENTS/params" 2>/dev/null)" != "$PARAMS" ]]; then
    log "==> generating segments ($PARAMS)"
    rm -rf "$SEGMENTS" && mkdir -p "$SEGMENTS"
    "$DRIVER" generate --dir "$SEGMENTS" --streams "$STREAMS" --exchanges "$EXCHANGES" --seed 42 >/dev/null
    printf '%s' "$PARAMS" >"$SEGMENTS/params"
fi
record manifest "$(cat "$SEGMENTS/manifest.json")"

printf 'bench-ingest-%s\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$BENCH_DIR/ingest.token"
printf 'bench-admin-%s\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$BENCH_DIR/admin.token"
INGEST_TOKEN="$(cat "$BENCH_DIR/ingest.token")"
ADMIN_TOKEN="$(cat "$BENCH_DIR/admin.token")"

# ---------------------------------------------------------------- servers

PIDS=()
cleanup() {
    local rc=$?
    ((rc == 0)) || log "bench-replicas: stopped early (status $rc); logs under $BENCH_DIR"
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    exec 7>&- 8>&- 2>/dev/null || true # the harnesses stop when their stdin closes
    wait 2>/dev/null || true
    exit "$rc"
}
trap cleanup EXIT
trap 'log "bench-replicas: interrupted"; exit 130' INT TERM

first_line() { # first_line FILE — waits up to 120 s
    for _ in $(seq 1200); do
        [[ -s "$1" ]] && { head -1 "$1"; return 0; }
        sleep 0.1
    done
    log "no answer in $1"; return 1
}

PG_DIR="$(mktemp -d /tmp/mcp-recorder-bench-postgres-XXXXXX)" # under /tmp: the server runs as `postgres`
rm -f "$BENCH_DIR/pg.in" && mkfifo "$BENCH_DIR/pg.in"
"$PYTHON" scripts/postgres/postgres.py --until-stdin-closes --tls "$PG_DIR" <"$BENCH_DIR/pg.in" >"$BENCH_DIR/pg.out" 2>"$BENCH_DIR/pg.err" &
exec 7>"$BENCH_DIR/pg.in"
read -r _ _ PG_URL _ PG_CA < <(first_line "$BENCH_DIR/pg.out")
log "==> PostgreSQL at ${PG_URL%%@*}@…"

start_radosgw() { # a fresh gateway (its in-memory OSD holds one data set)
    rm -f "$BENCH_DIR/rgw.in" "$BENCH_DIR/rgw.out" && mkfifo "$BENCH_DIR/rgw.in"
    "$PYTHON" scripts/s3/radosgw.py --until-stdin-closes "$BENCH_DIR/rgw-$1" <"$BENCH_DIR/rgw.in" >"$BENCH_DIR/rgw.out" 2>/dev/null &
    RGW_PID=$!
    exec 8>"$BENCH_DIR/rgw.in"
    local line
    line="$(first_line "$BENCH_DIR/rgw.out")"
    RGW_ENDPOINT="$(awk '{print $3}' <<<"$line")"
    awk '{gsub(/[,;()]/, ""); print $6}' <<<"$line" >"$BENCH_DIR/s3-access"
    awk '{gsub(/[,;()]/, ""); print $8}' <<<"$line" >"$BENCH_DIR/s3-secret"
}

stop_radosgw() {
    exec 8>&-
    wait "$RGW_PID" 2>/dev/null || true
}

wait_https() { # wait_https URL CA
    for _ in $(seq 300); do
        [[ -s "$2" ]] && curl -fsS -o /dev/null -m 1 --cacert "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    log "no answer from $1"; return 1
}

start_replicas() { # start_replicas NAME COUNT STORAGE-ARGS… — sets URLS, CA
    local name=$1 count=$2
    shift 2
    local dir="$BENCH_DIR/$name"
    rm -rf "$dir" && mkdir -p "$dir"
    URLS=""
    CA="$dir/tls/ca.pem"
    for ((i = 0; i < count; i++)); do
        local port=$((BASE_PORT + i)) tls
        if ((i == 0)); then tls=(--tls-self-signed --tls-self-signed-dir "$dir/tls"); else tls=(--tls-cert "$dir/tls/tls.crt" --tls-key "$dir/tls/tls.key"); fi
        "$RECORDER" collector --listen "127.0.0.1:$port" --data "$dir/data-$i" "${tls[@]}" \
            --ingest-token-file "$BENCH_DIR/ingest.token" --admin-token-file "$BENCH_DIR/admin.token" --log-level warning "$@" \
            >"$dir/collector-$i.log" 2>&1 &
        PIDS+=($!)
        wait_https "https://127.0.0.1:$port/readyz" "$CA"
        URLS+="${URLS:+,}https://127.0.0.1:$port"
    done
}

stop_replicas() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}

measure() { # measure LABEL REPLICAS
    log "==> $1: upload ($2 replica(s), $CONCURRENCY streams at once)"
    sync
    record "upload.$1" "$("$DRIVER" upload --url "$URLS" --ca "$CA" --token "$INGEST_TOKEN" --concurrency "$CONCURRENCY" --label "$1" "$SEGMENTS")"
    log "==> $1: GET /v1/sessions ($LIST_REQUESTS requests per query, on the first replica)"
    record "list.$1" "$("$DRIVER" list --url "${URLS%%,*}" --ca "$CA" --token "$ADMIN_TOKEN" --requests "$LIST_REQUESTS" --manifest "$SEGMENTS/manifest.json")"
}

# ---------------------------------------------------------------- rounds

for ((round = 1; round <= RUNS; round++)); do
    start_replicas "sqlite-$round" 1
    measure "sqlite+files x1 #$round" 1
    stop_replicas

    for n in 1 2 3; do
        start_radosgw "$round-$n"
        db="$(psql "$PG_URL" -qtAc "SELECT 'bench_${round}_${n}_' || floor(random() * 1e6)::int")"
        psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
        index_url="${PG_URL%/*}/$db?sslmode=verify-full&sslrootcert=$PG_CA"
        start_replicas "postgres-$round-$n" "$n" --index postgres --index-url "$index_url" --storage s3 \
            --s3-endpoint "$RGW_ENDPOINT" --s3-bucket bench --s3-create-bucket \
            --s3-access-key-file "$BENCH_DIR/s3-access" --s3-secret-key-file "$BENCH_DIR/s3-secret"
        measure "postgres+s3 x$n #$round" "$n"
        stop_replicas
        stop_radosgw
    done
done

# ---------------------------------------------------------------- report

"$PYTHON" - "$RESULTS" "$(nproc)" <<'PY' | tee "$BENCH_DIR/results.md"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
manifest = next(r["value"] for r in rows if r["key"] == "manifest")
uploads = {r["key"][7:]: r["value"] for r in rows if r["key"].startswith("upload.")}
lists = {r["key"][5:]: r["value"] for r in rows if r["key"].startswith("list.")}
print(f"Data: {manifest.get('segments', '?')} segments, {manifest.get('segment_bytes', 0) / 1e6:.1f} MB, "
      f"{manifest.get('exchanges', '?')} exchanges; {sys.argv[2]} cores, everything on this machine.\n")
base = next((u["mb_per_s"] for k, u in uploads.items() if k.startswith("sqlite")), None)
print("| collector | ingest MB/s | vs SQLite + files | segments/s | upload p99 ms | list default p50 / p99 ms | list rare tool p99 ms | list subject p99 ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for label, u in uploads.items():
    q = {x["name"].split(" ")[0]: x["latency"] for x in lists[label]["queries"]}
    rare = next((x["latency"]["p99_ms"] for x in lists[label]["queries"] if "(rare)" in x["name"]), float("nan"))
    subject = next((x["latency"]["p99_ms"] for x in lists[label]["queries"] if x["name"].startswith("subject=")), float("nan"))
    print(f"| {label} | {u['mb_per_s']:.1f} | {u['mb_per_s'] / base:.2f} | {u['segments_per_s']:.1f} | {u['latency']['p99_ms']:.1f} "
          f"| {q['default']['p50_ms']:.1f} / {q['default']['p99_ms']:.1f} | {rare:.1f} | {subject:.1f} |")
PY
