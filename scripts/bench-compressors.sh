#!/usr/bin/env bash
# Benchmark of the gzip encoders a segment writer can use (zlib, libdeflate, ISA-L igzip),
# on the bytes a writer really compresses (issue 24, stage 1).
#
# 1. `segment-bench` writes a corpus of generated MCP traffic (JSON-RPC requests, SSE
#    responses of tabular JSON and prose, 100 B – 1 MB results) through the real segment
#    writer, with PRODUCERS concurrent producers: its segments hold the batches exactly as
#    the writer cut them (one gzip member per batch).
# 2. `compressor-bench` decompresses those members and compresses them again with every
#    encoding, per size class (≤4 KiB single-exchange batches … 4 MiB capped batches),
#    RUNS rounds, checking that zlib's inflate gives every batch back.
# Prints a Markdown table: MB/s of input (range over the rounds), speed and ratio against
# zlib level 6 (the writer's encoder before issue 24) in the same round. Exits 0: a
# benchmark, not a test.
#
# Environment:
#   MEGABYTES   corpus size in MB of traffic                  (default 32)
#   PRODUCERS   concurrent producers writing the corpus       (default 16)
#   RUNS        rounds                                        (default 3)
#   SEED        corpus seed                                   (default 42)
#   BENCH_DIR   working directory (default ${TMPDIR:-/tmp}/mcp-recorder-compressors)
#   SKIP_BUILD  1 to reuse an existing release build          (default 0)
set -euo pipefail

MEGABYTES="${MEGABYTES:-32}"
PRODUCERS="${PRODUCERS:-16}"
RUNS="${RUNS:-3}"
SEED="${SEED:-42}"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/mcp-recorder-compressors}"
SKIP_BUILD="${SKIP_BUILD:-0}"
PYTHON="${PYTHON:-python3}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SCRATCH=".build-release"
COMMAND="MEGABYTES=$MEGABYTES PRODUCERS=$PRODUCERS RUNS=$RUNS SEED=$SEED scripts/bench-compressors.sh"
log() { printf '%s\n' "$*" >&2; }

if [[ "$SKIP_BUILD" != "1" ]]; then
    for product in segment-bench compressor-bench; do
        log "==> swift build -c release --product $product --scratch-path $SCRATCH"
        swift build -c release --product "$product" --scratch-path "$SCRATCH" >&2
    done
fi
BIN_DIR="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"

mkdir -p "$BENCH_DIR"
log "==> writing the corpus through the segment writer"
"$BIN_DIR/segment-bench" --dir "$BENCH_DIR" --megabytes "$MEGABYTES" --producers "$PRODUCERS" --seed "$SEED" >"$BENCH_DIR/corpus.json"
log "    $(cat "$BENCH_DIR/corpus.json")"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "==> compressor-bench, $RUNS rounds"
"$BIN_DIR/compressor-bench" --segments "$BENCH_DIR/spool" --runs "$RUNS" >"$BENCH_DIR/rounds.jsonl"
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

export BENCH_COMMAND="$COMMAND" BENCH_LOAD="$LOAD_BEFORE → $LOAD_AFTER"
export BENCH_CPU="$(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
export BENCH_LIBS="$(dpkg-query -W -f='${Package} ${Version}, ' zlib1g libdeflate0 libisal2 2>/dev/null | sed 's/, $//')"
"$PYTHON" - "$BENCH_DIR/rounds.jsonl" "$BENCH_DIR/corpus.json" <<'PY' | tee "$BENCH_DIR/results.md"
import json, os, sys
from collections import defaultdict

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
corpus = json.load(open(sys.argv[2]))
env = os.environ
by = defaultdict(list)
for r in rows:
    by[(r["class"], r["library"], r["level"])].append(r)
reference = {(r["round"], r["class"]): r for r in rows if r["library"] == "zlib" and r["level"] == 6}
classes = list(dict.fromkeys(r["class"] for r in rows))
encodings = list(dict.fromkeys((r["library"], r["level"]) for r in rows))

print(f"## Gzip encoders on segment batches")
print()
print(f"- Command: `{env['BENCH_COMMAND']}`; {env['BENCH_CPU']}; load {env['BENCH_LOAD']}")
print(f"- Libraries: {env['BENCH_LIBS']}")
print(f"- Corpus: {corpus['traffic_bytes']:,} traffic bytes in {corpus['exchanges']} exchanges, written by {corpus['producers']} producers "
      f"as {corpus['batches']:,} batches ({corpus['record_bytes']:,} record bytes)")
print(f"- Speed: MB/s of input, lowest–highest of {max(r['round'] for r in rows)} rounds; × zlib 6 and ratio ÷ zlib 6 are medians of the per-round quotients")
print()
for c in classes:
    first = next(r for r in rows if r["class"] == c)
    print(f"### {c}: {first['inputs']:,} batches, {first['input_bytes']:,} bytes")
    print()
    print("| encoder | level | deflate MB/s | × zlib 6 | ratio | ÷ zlib 6 ratio | zlib inflate MB/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for lib, level in encodings:
        rs = by[(c, lib, level)]
        speeds = sorted(r["deflate_mb_per_s"] for r in rs)
        rel = sorted(r["deflate_mb_per_s"] / reference[(r["round"], c)]["deflate_mb_per_s"] for r in rs)
        ratio = rs[0]["ratio"]
        rel_ratio = ratio / reference[(rs[0]["round"], c)]["ratio"]
        inflate = sorted(r["zlib_inflate_mb_per_s"] for r in rs)
        print(f"| {lib} | {level} | {speeds[0]:.0f}–{speeds[-1]:.0f} | {rel[len(rel)//2]:.2f}× | {ratio:.2f} | {rel_ratio:.3f} | {inflate[len(inflate)//2]:.0f} |")
    print()
PY
log "report: $BENCH_DIR/results.md"
