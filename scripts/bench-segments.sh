#!/usr/bin/env bash
# Benchmark of the segment writer against zlib (issue "segments"; encoders: issue 24).
#
# Builds the `segment-bench` driver in release mode (own scratch path, so it
# does not contend with a debug build in .build), runs it RUNS times on a
# generated corpus of MCP-like traffic, and in each round also compresses, with
# Python's zlib (scripts/zlib_reference.py, gzip wrapper, level ZLIB_LEVEL):
#   (a) the same traffic bytes (DIR/traffic.bin), and
#   (b) the record bytes the writer produced in that round (decompressed from
#       the finished segments, header and trailer members left out).
# Writer and zlib runs are interleaved so background load hits both alike; the
# best of RUNS is reported for each. Prints a Markdown report with PASS/FAIL
# against the product targets, and exits 0 either way: it is a benchmark, not
# a test.
#
# Environment:
#   MEGABYTES   corpus size in MB of traffic          (default 64)
#   COMPRESSOR  the writer's encoder: isal, libdeflate, zlib (default isal, the sidecar's)
#   LEVEL       the writer's level             (default: the encoder's, isal 1, others 6)
#   ZLIB_LEVEL  level of the zlib reference                (default 6)
#   PRODUCERS   concurrent producers in the driver     (default 8)
#   RUNS        rounds; the best of each is reported   (default 3)
#   SEED        corpus seed                            (default 42)
#   BENCH_DIR   working directory (traffic.bin, spool/, results)
#               (default ${TMPDIR:-/tmp}/mcp-recorder-bench)
#   SKIP_BUILD  1 to reuse an existing release build   (default 0)
#   PYTHON      Python 3 interpreter                   (default python3)
set -euo pipefail

MEGABYTES="${MEGABYTES:-64}"
COMPRESSOR="${COMPRESSOR:-isal}"
LEVEL="${LEVEL:-}"
ZLIB_LEVEL="${ZLIB_LEVEL:-6}"
PRODUCERS="${PRODUCERS:-8}"
RUNS="${RUNS:-3}"
SEED="${SEED:-42}"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/mcp-recorder-bench}"
SKIP_BUILD="${SKIP_BUILD:-0}"
PYTHON="${PYTHON:-python3}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCRATCH=".build-release"
COMMAND="MEGABYTES=$MEGABYTES COMPRESSOR=$COMPRESSOR${LEVEL:+ LEVEL=$LEVEL} ZLIB_LEVEL=$ZLIB_LEVEL PRODUCERS=$PRODUCERS RUNS=$RUNS SEED=$SEED scripts/bench-segments.sh"

log() { printf '%s\n' "$*" >&2; }

if [[ "$SKIP_BUILD" != "1" ]]; then
    log "==> swift build -c release --product segment-bench --scratch-path $SCRATCH"
    swift build -c release --product segment-bench --scratch-path "$SCRATCH" >&2
fi
BIN="$(swift build -c release --product segment-bench --scratch-path "$SCRATCH" --show-bin-path)/segment-bench"
[[ -x "$BIN" ]] || { log "no driver at $BIN (build it, or unset SKIP_BUILD)"; exit 1; }

mkdir -p "$BENCH_DIR"
ROUNDS="$BENCH_DIR/rounds.jsonl"
: >"$ROUNDS"

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
DRIVER=("$BIN" --dir "$BENCH_DIR" --megabytes "$MEGABYTES" --compressor "$COMPRESSOR" ${LEVEL:+--level "$LEVEL"} --producers "$PRODUCERS" --seed "$SEED")
for ((round = 1; round <= RUNS; round++)); do
    log "==> round $round/$RUNS: segment writer"
    writer_json="$("${DRIVER[@]}")"
    log "    $writer_json"
    log "==> round $round/$RUNS: zlib reference"
    zlib_json="$("$PYTHON" scripts/zlib_reference.py --dir "$BENCH_DIR" --level "$ZLIB_LEVEL" --runs 1)"
    log "    $zlib_json"
    printf '{"round":%d,"writer":%s,"zlib":%s}\n' "$round" "$writer_json" "$zlib_json" >>"$ROUNDS"
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

CPU_MODEL="$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
export BENCH_NPROC="$(nproc 2>/dev/null || echo unknown)"
export BENCH_CPU="${CPU_MODEL:-unknown}"
export BENCH_SWIFT="$(swift --version 2>&1 | head -n1)"
export BENCH_KERNEL="$(uname -sr)"
export BENCH_COMMAND="$COMMAND"
export BENCH_ZLIB_LEVEL="$ZLIB_LEVEL"
export BENCH_DRIVER="${DRIVER[*]}"
export BENCH_LOAD_BEFORE="$LOAD_BEFORE"
export BENCH_LOAD_AFTER="$LOAD_AFTER"

"$PYTHON" - "$ROUNDS" <<'PY' | tee "$BENCH_DIR/results.md"
import json, os, sys

rounds = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
w_all = [r["writer"] for r in rounds]
z_all = [r["zlib"] for r in rounds]
best_round = min(rounds, key=lambda r: r["writer"]["seconds"])
best = best_round["writer"]                          # best writer round
MB = 1e6

traffic = best["traffic_bytes"]
records = best["record_bytes"]
segments = best["segment_bytes"]
w_traffic = traffic / best["seconds"] / MB           # writer, MB/s of traffic
w_records = records / best["seconds"] / MB           # writer, MB/s of record bytes
zt_sec = min(z["traffic_seconds"] for z in z_all)
zr_sec = min(z["record_seconds"] for z in z_all)
z0 = best_round["zlib"]                              # its records, read back from its segments
zr_bytes = z0["record_bytes"]
z_traffic = traffic / zt_sec / MB
z_records = zr_bytes / zr_sec / MB
zt_ratio = z0["traffic_bytes"] / z0["traffic_compressed_bytes"]
zr_ratio = zr_bytes / z0["record_compressed_bytes"]
ratio_traffic = traffic / segments
ratio_records = records / segments
speed_traffic = w_traffic / z_traffic
speed_records = w_records / z_records

def verdict(ok): return "PASS" if ok else "FAIL"

level = best["level"]
env = os.environ
print()
print(f"## Segment writer ({best['compressor']} level {level}) vs zlib (level {env['BENCH_ZLIB_LEVEL']})")
print()
print(f"- Machine: {env['BENCH_NPROC']} CPUs, {env['BENCH_CPU']}, {env['BENCH_KERNEL']}")
print(f"- Toolchain: {env['BENCH_SWIFT']}; zlib {z0['zlib_version']} (writer and Python {z0['python']})")
print(f"- Command: `{env['BENCH_COMMAND']}`")
print(f"- Driver: `{env['BENCH_DRIVER']}`")
print(f"- Corpus: {traffic:,} traffic bytes in {best['exchanges']} exchanges; "
      f"{best['records']:,} records, {records:,} record bytes, "
      f"{best['batches']:,} batches (gzip members), {best['segments']} segments, {best['producers']} producers")
print(f"- Rounds: {len(rounds)}, best of each reported; load average before {env['BENCH_LOAD_BEFORE']}, after {env['BENCH_LOAD_AFTER']}")
print(f"- Writer seconds per round: {', '.join('%.3f' % w['seconds'] for w in w_all)}")
print(f"- zlib seconds per round (traffic / records): "
      f"{', '.join('%.3f/%.3f' % (z['traffic_seconds'], z['record_seconds']) for z in z_all)}")
w_secs = [w["seconds"] for w in w_all]
def spread(xs): return max(xs) / min(xs) - 1
spread_w = spread(w_secs)
spread_z = max(spread([z["traffic_seconds"] for z in z_all]), spread([z["record_seconds"] for z in z_all]))
print(f"- Spread (slowest ÷ fastest − 1): writer {spread_w:.0%}, zlib {spread_z:.0%}"
      + ("; noisy, consider rerunning on a quiet machine or with more RUNS" if max(spread_w, spread_z) > 0.10 else ""))
print()
print("| Measure | Bytes in | Seconds | MB/s of input | Writer ÷ zlib | Compression ratio |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| Segment writer (traffic basis) | {traffic:,} traffic | {best['seconds']:.3f} | {w_traffic:.1f} | {speed_traffic:.2f}× | {ratio_traffic:.2f} (traffic ÷ segments) |")
print(f"| Segment writer (record basis) | {records:,} records | {best['seconds']:.3f} | {w_records:.1f} | {speed_records:.2f}× | {ratio_records:.2f} (records ÷ segments) |")
print(f"| zlib on the traffic bytes | {traffic:,} | {zt_sec:.3f} | {z_traffic:.1f} | — | {zt_ratio:.2f} |")
print(f"| zlib on the record bytes | {zr_bytes:,} | {zr_sec:.3f} | {z_records:.1f} | — | {zr_ratio:.2f} |")
print()
print(f"Segment bytes: {segments:,}; zlib output: {z0['traffic_compressed_bytes']:,} (traffic), {z0['record_compressed_bytes']:,} (records).")
if zr_bytes != records:
    print(f"Note: the best writer round wrote {records:,} record bytes, the segments read back held {zr_bytes:,}.")
print()
print("Targets:")
print(f"- Writer throughput ≥ 0.9× zlib at level {env['BENCH_ZLIB_LEVEL']} (same traffic bytes): {speed_traffic:.3f}× → **{verdict(speed_traffic >= 0.9)}**"
      f" (on the record bytes it compresses: {speed_records:.3f}× → {verdict(speed_records >= 0.9)})")
print(f"- Compression ratio ≥ 3× on MCP JSON traffic (traffic ÷ segment bytes): {ratio_traffic:.3f}× → **{verdict(ratio_traffic >= 3.0)}**")
PY

log "rounds: $ROUNDS; report: $BENCH_DIR/results.md"
exit 0
