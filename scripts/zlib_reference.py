#!/usr/bin/env python3
"""zlib reference for scripts/bench-segments.sh.

Compresses, with Python's zlib (stdlib) at the writer's level and with a gzip
wrapper (wbits 31), the same bytes the segment writer handled in one run of
`segment-bench`:

  traffic  DIR/traffic.bin, the raw request and response bytes of the corpus;
  records  the record lines the writer produced, decompressed from the finished
           segments in DIR/spool (every member whose line starts `{"seq":`,
           i.e. without the segment header and trailer members), concatenated.

Each input is compressed as one stream in one call; only that call and the
final flush are timed (best of --runs). Prints one JSON object.
"""

import argparse
import glob
import json
import os
import sys
import time
import zlib


def best_compress(data: bytes, level: int, runs: int):
    best = None
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        c = zlib.compressobj(level, zlib.DEFLATED, 31)
        out = c.compress(data)
        out += c.flush()
        elapsed = time.perf_counter() - start
        size = len(out)
        best = elapsed if best is None else min(best, elapsed)
    return best, size


def record_bytes(spool: str):
    """The record lines of all finished segments, plus counts."""
    chunks = []
    segments = 0
    members = 0
    for path in sorted(glob.glob(os.path.join(spool, "*.seg.gz"))):
        segments += 1
        with open(path, "rb") as f:
            data = f.read()
        while data:
            d = zlib.decompressobj(31)
            member = d.decompress(data)
            member += d.flush()
            if not d.eof:
                sys.exit(f"zlib_reference: {path}: torn gzip member")
            members += 1
            if member.startswith(b'{"seq":'):
                chunks.append(member)
            data = d.unused_data
    return b"".join(chunks), segments, members


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="the driver's --dir (holds traffic.bin and spool/)")
    p.add_argument("--level", type=int, default=6)
    p.add_argument("--runs", type=int, default=3, help="timed compressions per input; the best is reported")
    args = p.parse_args()

    with open(os.path.join(args.dir, "traffic.bin"), "rb") as f:
        traffic = f.read()
    records, segments, members = record_bytes(os.path.join(args.dir, "spool"))

    t_sec, t_out = best_compress(traffic, args.level, args.runs)
    r_sec, r_out = best_compress(records, args.level, args.runs)
    print(json.dumps({
        "zlib_version": zlib.ZLIB_RUNTIME_VERSION,
        "python": sys.version.split()[0],
        "level": args.level,
        "runs": args.runs,
        "traffic_bytes": len(traffic),
        "traffic_seconds": t_sec,
        "traffic_compressed_bytes": t_out,
        "record_bytes": len(records),
        "record_seconds": r_sec,
        "record_compressed_bytes": r_out,
        "segments": segments,
        "members": members,
    }))


if __name__ == "__main__":
    main()
