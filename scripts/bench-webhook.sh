#!/usr/bin/env bash
# Benchmark of the admission webhook (`mcp-recorder webhook`, issue 5): latency of
# POST /mutate over HTTPS at a constant request rate, for the pod of a typical
# Deployment, against a trivial TLS server measured in the same run.
#
# Starts, on loopback, with the same throwaway certificate (openssl, RSA 2048 like
# cert-manager's default):
#   - the release-built webhook: `mcp-recorder webhook --listen 127.0.0.1:PORT
#     --tls-cert … --tls-key … --image x --collector-url https://c:8443
#     --kubernetes-version 1.33` (--log-level LOG_LEVEL, by default info as in production:
#     one line per admission, to a file);
#   - nginx (`worker_processes 1`) answering POST /mutate with `return 200` of the
#     exact bytes the webhook answered (the reference: TLS + HTTP, no work).
# Then:
#   1. wraps CASE (a pod manifest) in the AdmissionReview the API server sends for a
#      Pod CREATE, posts it once to the webhook and checks the answer is a real patch:
#      allowed, uid echoed, a JSONPatch that applies and injects the recorder
#      (and compares the patched pod with the casebook's expected.yaml);
#   2. per round, for the webhook then nginx: `hey -c WORKERS -q RATE/WORKERS` for
#      LOAD_SECONDS over keep-alive connections (as the API server keeps them), after
#      WARMUP_SECONDS unrecorded; then NEWCONN_SECONDS with -disable-keepalive (a TLS
#      handshake per request); and, if SPREAD_SECONDS > 0, the same rate from WORKERS
#      separate `hey -c 1` processes started 1000/RATE ms apart, so that requests
#      arrive evenly spaced instead of in hey's bursts of WORKERS at once.
#      Latency percentiles from hey's per-request CSV,
#      the achieved rate, non-200 answers, the server's CPU time per request
#      (/proc/PID/stat), and the webhook's own handler-time histogram (/metrics);
#   3. prints a Markdown report (also BENCH_DIR/results.md) with the added latency
#      (webhook − nginx), the ratios and PASS/FAIL for p99 ≤ TARGET_P99_MS, judged on
#      the quiet rounds (the rest of the machine used ≤ 10 % of the CPUs meanwhile;
#      all rounds when none was quiet), with the worst round beside it.
# Exits 0 whatever the verdict (a benchmark, not a test); 1 if the webhook's answer
# is not a real patch. Everything it started is stopped on exit.
#
# Needs: swift, python3 with PyYAML, curl, openssl, hey, nginx
#   (Debian 12: apt-get install hey nginx-light python3-yaml).
#
# Environment:
#   RATE            total request rate, req/s                    (default 200)
#   WORKERS         hey workers = keep-alive connections         (default 4)
#   LOAD_SECONDS    measured seconds per keep-alive run          (default 30)
#   WARMUP_SECONDS  unrecorded seconds before each target        (default 3)
#   NEWCONN_SECONDS seconds per new-connection run (0: skip)     (default 10)
#   SPREAD_SECONDS  seconds per evenly spaced run (0: skip)      (default 30)
#   LOG_LEVEL       the webhook's --log-level                    (default info)
#   NICE            run webhook, nginx and hey at this nice level (default 0; e.g. -10
#                   as root, to keep a busy machine's other work from skewing the tail)
#   ROUNDS          rounds of webhook + nginx                    (default 1)
#   TARGET_P99_MS   the target                                   (default 5)
#   CASE            pod manifest       (default webhook/cases/02-pod-of-deployment/input.yaml)
#   KEY             openssl -newkey argument                     (default rsa:2048)
#   BASE_PORT       webhook on BASE_PORT+1, nginx on +2          (default 18500)
#   BENCH_DIR       working directory (default ${TMPDIR:-/tmp}/mcp-recorder-bench-webhook)
#   SKIP_BUILD      1 to reuse an existing release build         (default 0)
#   PYTHON          Python 3 interpreter                         (default python3)
set -euo pipefail

RATE="${RATE:-200}"
WORKERS="${WORKERS:-4}"
LOAD_SECONDS="${LOAD_SECONDS:-30}"
WARMUP_SECONDS="${WARMUP_SECONDS:-3}"
NEWCONN_SECONDS="${NEWCONN_SECONDS:-10}"
SPREAD_SECONDS="${SPREAD_SECONDS:-30}"
LOG_LEVEL="${LOG_LEVEL:-info}"
NICE="${NICE:-0}"
ROUNDS="${ROUNDS:-1}"
TARGET_P99_MS="${TARGET_P99_MS:-5}"
CASE="${CASE:-webhook/cases/02-pod-of-deployment/input.yaml}"
KEY="${KEY:-rsa:2048}"
BASE_PORT="${BASE_PORT:-18500}"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/mcp-recorder-bench-webhook}"
SKIP_BUILD="${SKIP_BUILD:-0}"
PYTHON="${PYTHON:-python3}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCRATCH=".build-release"
HELPER="$ROOT/scripts/bench_webhook_helper.py"
IMAGE="x"
COLLECTOR_URL="https://c:8443"
COMMAND="RATE=$RATE WORKERS=$WORKERS LOAD_SECONDS=$LOAD_SECONDS NEWCONN_SECONDS=$NEWCONN_SECONDS SPREAD_SECONDS=$SPREAD_SECONDS ROUNDS=$ROUNDS LOG_LEVEL=$LOG_LEVEL NICE=$NICE scripts/bench-webhook.sh"

log() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- tools

missing=()
need() { # need TOOL DEBIAN-PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then missing+=("$1 (Debian package: $2)"); fi
}
need hey hey
need nginx nginx-light
need openssl openssl
need curl curl
need "$PYTHON" python3
need swift "a Swift 6 toolchain from swift.org"
if ((${#missing[@]})); then
    log "bench-webhook: missing tools:"
    for m in "${missing[@]}"; do log "  - $m"; done
    log "install them (e.g. apt-get install -y hey nginx-light openssl curl python3-yaml) and run again."
    exit 0
fi
if ! "$PYTHON" -c 'import yaml' 2>/dev/null; then
    log "bench-webhook: $PYTHON has no PyYAML (Debian package python3-yaml, or pip install PyYAML)"
    exit 0
fi
if ((RATE % WORKERS != 0)); then
    log "bench-webhook: RATE ($RATE) must be a multiple of WORKERS ($WORKERS): hey's -q is per worker"
    exit 0
fi
PER_WORKER=$((RATE / WORKERS))

# ---------------------------------------------------------------- build

if [[ "$SKIP_BUILD" != "1" ]]; then
    log "==> swift build -c release --product mcp-recorder --scratch-path $SCRATCH"
    swift build -c release --product mcp-recorder --scratch-path "$SCRATCH" >&2
fi
BIN_DIR="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
RECORDER="$BIN_DIR/mcp-recorder"
[[ -x "$RECORDER" ]] || { log "no binary at $RECORDER (build it, or unset SKIP_BUILD)"; exit 0; }
"$RECORDER" webhook --help >/dev/null 2>&1 || { log "$RECORDER has no webhook subcommand (rebuild, or unset SKIP_BUILD)"; exit 0; }

# ---------------------------------------------------------------- processes

PIDS=()
CURRENT=""
cleanup() {
    local rc=$? pid
    # shellcheck disable=SC2086
    [[ -z "$CURRENT" ]] || kill $CURRENT 2>/dev/null || true
    ((rc == 0)) || log "bench-webhook: stopped early (status $rc); see the output above and $BENCH_DIR/logs"
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'log "bench-webhook: interrupted"; exit 0' INT TERM

P_WEBHOOK=$((BASE_PORT + 1))
P_NGINX=$((BASE_PORT + 2))
for port in $P_WEBHOOK $P_NGINX; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        log "port $port is in use (set BASE_PORT)"; exit 0
    fi
done

# Only what an earlier run left there (BENCH_DIR may be a directory of the user's).
rm -rf "$BENCH_DIR/logs" "$BENCH_DIR/tls" "$BENCH_DIR/nginx" "$BENCH_DIR/csv"
rm -f "$BENCH_DIR/results.jsonl" "$BENCH_DIR/results.md" "$BENCH_DIR/review.json" "$BENCH_DIR/response.json" "$BENCH_DIR/response-nginx.json"
mkdir -p "$BENCH_DIR/logs" "$BENCH_DIR/tls" "$BENCH_DIR/nginx/tmp" "$BENCH_DIR/csv"
RESULTS="$BENCH_DIR/results.jsonl"
: >"$RESULTS"

record() { # record KEY JSON
    local value="$2"
    [[ -n "$value" ]] || value='{}'
    printf '{"key":"%s","value":%s}\n' "$1" "$value" >>"$RESULTS"
    log "    $1: $value"
}

start_named() { # start_named NAME COMMAND... — logs to BENCH_DIR/logs/NAME.log, sets STARTED_PID
    local name="$1"; shift
    nice -n "$NICE" "$@" >"$BENCH_DIR/logs/$name.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
}

wait_https() { # wait_https URL — up to 20 s
    for _ in $(seq 200); do
        curl -kfsS -o /dev/null -m 1 "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    log "no answer from $1"; return 1
}

busy_ticks() { # busy CPU time of the whole machine (all CPUs, /proc/stat), in clock ticks
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

cpu_ticks() { # cpu_ticks PID... — utime+stime summed, in clock ticks
    local total=0 pid
    for pid in "$@"; do
        total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}

# ---------------------------------------------------------------- TLS, review

log "==> throwaway certificate ($KEY) under $BENCH_DIR/tls"
openssl req -x509 -newkey "$KEY" -nodes -days 2 -subj "/CN=mcp-recorder-webhook.mcp-recorder.svc" \
    -addext "subjectAltName=DNS:mcp-recorder-webhook.mcp-recorder.svc,IP:127.0.0.1" \
    -keyout "$BENCH_DIR/tls/tls.key" -out "$BENCH_DIR/tls/tls.crt" 2>"$BENCH_DIR/logs/openssl.log"
CERT="$BENCH_DIR/tls/tls.crt"
KEYFILE="$BENCH_DIR/tls/tls.key"

record review "$("$PYTHON" "$HELPER" review "$CASE" "$BENCH_DIR/review.json")"

# ---------------------------------------------------------------- webhook

log "==> starting the webhook on 127.0.0.1:$P_WEBHOOK"
start_named webhook "$RECORDER" webhook --listen "127.0.0.1:$P_WEBHOOK" --tls-cert "$CERT" --tls-key "$KEYFILE" \
    --image "$IMAGE" --collector-url "$COLLECTOR_URL" --kubernetes-version 1.33 --log-level "$LOG_LEVEL"
WEBHOOK_PID=$STARTED_PID
wait_https "https://127.0.0.1:$P_WEBHOOK/readyz"

WEBHOOK_URL="https://127.0.0.1:$P_WEBHOOK/mutate"
curl -ksS --fail-with-body -X POST -H 'Content-Type: application/json' --data-binary "@$BENCH_DIR/review.json" \
    -o "$BENCH_DIR/response.json" "$WEBHOOK_URL"
expected="$(dirname "$CASE")/expected.yaml"
expected_args=()
[[ -f "$expected" ]] && expected_args=(--expected "$expected" --image "$IMAGE" --collector-url "$COLLECTOR_URL")
if ! check="$("$PYTHON" "$HELPER" check "$BENCH_DIR/review.json" "$BENCH_DIR/response.json" "${expected_args[@]}")"; then
    log "bench-webhook: the webhook's answer is not a real patch: $check"
    log "(answer in $BENCH_DIR/response.json)"
    exit 1
fi
record check "$check"

# ---------------------------------------------------------------- nginx

log "==> starting nginx on 127.0.0.1:$P_NGINX (return 200 of the webhook's answer)"
NGX="$BENCH_DIR/nginx"
cat >"$NGX/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $NGX/tmp;
    proxy_temp_path $NGX/tmp;
    fastcgi_temp_path $NGX/tmp;
    uwsgi_temp_path $NGX/tmp;
    scgi_temp_path $NGX/tmp;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:$P_NGINX ssl;
        ssl_certificate $CERT;
        ssl_certificate_key $KEYFILE;
        ssl_protocols TLSv1.2 TLSv1.3;
        client_max_body_size 8m;
        location = /readyz { return 200 "ready\n"; }
        location = /mutate {
            default_type application/json;
            # The webhook's answer, split under nginx's 4 KiB limit per token.
            $("$PYTHON" "$HELPER" nginx-set "$BENCH_DIR/response.json")
        }
    }
}
EOF
nginx -t -q -c "$NGX/nginx.conf" -e "$NGX/error.log" >&2
start_named nginx nginx -c "$NGX/nginx.conf" -e "$NGX/error.log"
NGINX_PID=$STARTED_PID
wait_https "https://127.0.0.1:$P_NGINX/readyz"
NGINX_URL="https://127.0.0.1:$P_NGINX/mutate"
curl -ksS --fail-with-body -X POST -H 'Content-Type: application/json' --data-binary "@$BENCH_DIR/review.json" \
    -o "$BENCH_DIR/response-nginx.json" "$NGINX_URL"
cmp -s "$BENCH_DIR/response.json" "$BENCH_DIR/response-nginx.json" ||
    { log "bench-webhook: nginx does not answer the webhook's bytes (see $BENCH_DIR/response-nginx.json)"; exit 1; }
nginx_pids() { echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }

tls_of() { # tls_of PORT — protocol and cipher as openssl s_client negotiates them
    openssl s_client -brief -connect "127.0.0.1:$1" </dev/null 2>&1 |
        awk -F': ' '/^Protocol version/ {p=$2} /^Ciphersuite/ {c=$2} /^Peer Temp Key/ {k=$2} END {printf "%s %s %s", p, c, k}'
}
TLS_NOTE="webhook $(tls_of "$P_WEBHOOK"); nginx $(tls_of "$P_NGINX") (openssl s_client; hey is Go's crypto/tls, which skips certificate verification)"
log "    tls: $TLS_NOTE"

# ---------------------------------------------------------------- load

HEY_ARGS=(-c "$WORKERS" -q "$PER_WORKER" -m POST -T application/json -D "$BENCH_DIR/review.json")
url_of() { [[ "$1" == webhook ]] && echo "$WEBHOOK_URL" || echo "$NGINX_URL"; }
pids_of() { [[ "$1" == webhook ]] && echo "$WEBHOOK_PID" || nginx_pids; }

# children_cpu_ms — sets CHILD_MS to the user+system CPU time of the children this shell
# has reaped (bash's `times`, second line), in ms; no subshell, so nothing else is counted.
children_cpu_ms() {
    local self_u self_s u s
    times >"$BENCH_DIR/times.txt"
    { read -r self_u self_s; read -r u s; } <"$BENCH_DIR/times.txt"
    CHILD_MS=0
    for t in "$u" "$s"; do # 0m1.234s
        local sec="${t#*m}"
        sec="${sec%s}"
        CHILD_MS=$((CHILD_MS + ${t%%m*} * 60000 + 10#${sec/./}))
    done
}

# run_hey CSV SECONDS URL [EXTRA...] — in the background, so a trapped signal interrupts `wait`.
# Sets HEY_CPU_MS to the CPU time hey used.
run_hey() {
    local csv="$1" seconds="$2" url="$3" before; shift 3
    children_cpu_ms; before=$CHILD_MS
    nice -n "$NICE" hey "${HEY_ARGS[@]}" "$@" -z "${seconds}s" -o csv "$url" >"$csv" 2>>"$BENCH_DIR/logs/hey.err" &
    CURRENT=$!
    wait "$CURRENT" || true
    CURRENT=""
    children_cpu_ms; HEY_CPU_MS=$((CHILD_MS - before))
}

# run_spread CSV-PREFIX SECONDS URL — WORKERS `hey -c 1` processes started 1000/RATE ms
# apart: the same rate and connections, evenly spaced (to the precision of sleep and
# of each hey's start-up) instead of in bursts.
run_spread() {
    local prefix="$1" seconds="$2" url="$3" i gap before
    children_cpu_ms; before=$CHILD_MS
    gap="$(awk -v r="$RATE" 'BEGIN { printf "%.4f", 1 / r }')"
    CURRENT=""
    for i in $(seq "$WORKERS"); do
        nice -n "$NICE" hey -c 1 -q "$PER_WORKER" -m POST -T application/json -D "$BENCH_DIR/review.json" -z "${seconds}s" -o csv "$url" \
            >"$prefix-$i.csv" 2>>"$BENCH_DIR/logs/hey.err" &
        CURRENT="$CURRENT $!"
        sleep "$gap"
    done
    # shellcheck disable=SC2086
    wait $CURRENT || true
    CURRENT=""
    children_cpu_ms; HEY_CPU_MS=$((CHILD_MS - before))
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for target in webhook nginx; do
    log "==> warm-up $target: ${WARMUP_SECONDS} s at $RATE req/s"
    run_hey "$BENCH_DIR/csv/warmup-$target.csv" "$WARMUP_SECONDS" "$(url_of $target)"
done

for round in $(seq "$ROUNDS"); do
    for target in webhook nginx; do
        log "==> round $round/$ROUNDS $target, keep-alive: hey -c $WORKERS -q $PER_WORKER -z ${LOAD_SECONDS}s"
        [[ "$target" == webhook ]] && curl -ksS -o "$BENCH_DIR/metrics-before.txt" "https://127.0.0.1:$P_WEBHOOK/metrics"
        # shellcheck disable=SC2046
        before=$(cpu_ticks $(pids_of $target)); busy_before=$(busy_ticks)
        run_hey "$BENCH_DIR/csv/keepalive-$target-$round.csv" "$LOAD_SECONDS" "$(url_of $target)"
        # shellcheck disable=SC2046
        after=$(cpu_ticks $(pids_of $target)); busy_after=$(busy_ticks)
        record "keepalive.$target.$round" "$("$PYTHON" "$HELPER" hey "$BENCH_DIR/csv/keepalive-$target-$round.csv" --cpu-ticks $((after - before)) "$(getconf CLK_TCK)" --client-cpu-ms "$HEY_CPU_MS" --machine-busy-ticks $((busy_after - busy_before)))"
        if [[ "$target" == webhook ]]; then
            curl -ksS -o "$BENCH_DIR/metrics-after.txt" "https://127.0.0.1:$P_WEBHOOK/metrics"
            record "histo.keepalive.$round" "$("$PYTHON" "$HELPER" histo "$BENCH_DIR/metrics-before.txt" "$BENCH_DIR/metrics-after.txt")"
        fi
    done
done

if ((SPREAD_SECONDS > 0)); then
    for round in $(seq "$ROUNDS"); do
        for target in webhook nginx; do
            log "==> round $round/$ROUNDS $target, keep-alive evenly spaced: $WORKERS × hey -c 1 -q $PER_WORKER -z ${SPREAD_SECONDS}s"
            # shellcheck disable=SC2046
            before=$(cpu_ticks $(pids_of $target)); busy_before=$(busy_ticks); busy_before=$(busy_ticks)
            run_spread "$BENCH_DIR/csv/spread-$target-$round" "$SPREAD_SECONDS" "$(url_of $target)"
            # shellcheck disable=SC2046
            after=$(cpu_ticks $(pids_of $target)); busy_after=$(busy_ticks); busy_after=$(busy_ticks)
            record "spread.$target.$round" "$("$PYTHON" "$HELPER" hey "$BENCH_DIR/csv/spread-$target-$round"-*.csv --cpu-ticks $((after - before)) "$(getconf CLK_TCK)" --client-cpu-ms "$HEY_CPU_MS" --machine-busy-ticks $((busy_after - busy_before)))"
        done
    done
fi

if ((NEWCONN_SECONDS > 0)); then
    for round in $(seq "$ROUNDS"); do
        for target in webhook nginx; do
            log "==> round $round/$ROUNDS $target, a new connection per request: hey -disable-keepalive -z ${NEWCONN_SECONDS}s"
            # shellcheck disable=SC2046
            before=$(cpu_ticks $(pids_of $target)); busy_before=$(busy_ticks); busy_before=$(busy_ticks)
            run_hey "$BENCH_DIR/csv/newconn-$target-$round.csv" "$NEWCONN_SECONDS" "$(url_of $target)" -disable-keepalive
            # shellcheck disable=SC2046
            after=$(cpu_ticks $(pids_of $target)); busy_after=$(busy_ticks); busy_after=$(busy_ticks)
            record "newconn.$target.$round" "$("$PYTHON" "$HELPER" hey "$BENCH_DIR/csv/newconn-$target-$round.csv" --cpu-ticks $((after - before)) "$(getconf CLK_TCK)" --client-cpu-ms "$HEY_CPU_MS" --machine-busy-ticks $((busy_after - busy_before)))"
        done
    done
fi
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
record rss.webhook "{\"kib\":$(awk '/^VmRSS:/ {print $2}' "/proc/$WEBHOOK_PID/status")}"

if grep -qiE '"?(error|critical)' "$BENCH_DIR/logs/webhook.log"; then
    log "note: the webhook logged errors:"; grep -iE 'error|critical' "$BENCH_DIR/logs/webhook.log" | head -5 >&2
fi

# ---------------------------------------------------------------- report

CPU_MODEL="$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
export BENCH_NPROC="$(nproc)"
export BENCH_CPU="${CPU_MODEL:-unknown}"
export BENCH_KERNEL="$(uname -sr)"
export BENCH_SWIFT="$(swift --version 2>&1 | grep -m1 -o 'Swift version [^ ]* ([^)]*)' || swift --version 2>&1 | head -n1)"
export BENCH_NGINX="$(nginx -v 2>&1 | sed 's/^nginx version: //')"
export BENCH_HEY="$(dpkg-query -W -f='${Version}' hey 2>/dev/null || echo unknown)"
export BENCH_OPENSSL="$(openssl version | cut -d' ' -f1-2)"
export BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null && [[ -z "$(git status --porcelain 2>/dev/null)" ]] || echo ' (with uncommitted changes)')"
export BENCH_COMMAND="$COMMAND"
export BENCH_LOAD_BEFORE="$LOAD_BEFORE" BENCH_LOAD_AFTER="$LOAD_AFTER"
export BENCH_TLS="$TLS_NOTE; certificate $KEY"
export BENCH_CASE="$CASE"
export BENCH_RATE="$RATE" BENCH_ROUNDS="$ROUNDS" BENCH_TARGET_P99_MS="$TARGET_P99_MS"
export BENCH_LOAD_SHAPE="keep-alive, bursts: hey -c $WORKERS -q $PER_WORKER ($RATE req/s: $WORKERS workers on their own keep-alive connections, firing together every $((1000 / PER_WORKER)) ms), ${LOAD_SECONDS} s per target after ${WARMUP_SECONDS} s unrecorded; keep-alive, evenly spaced: $WORKERS × hey -c 1 -q $PER_WORKER started $((1000 / RATE)) ms apart, ${SPREAD_SECONDS} s; new connection per request: the bursts with -disable-keepalive, ${NEWCONN_SECONDS} s. Latency = hey's response time (request start → body read, handshake included; 0.1 ms resolution). Webhook --log-level $LOG_LEVEL; webhook, nginx and hey at nice $NICE"

"$PYTHON" "$HELPER" report "$RESULTS" | tee "$BENCH_DIR/results.md"
log "(raw results: $RESULTS; per-request CSVs: $BENCH_DIR/csv; logs: $BENCH_DIR/logs)"
exit 0
