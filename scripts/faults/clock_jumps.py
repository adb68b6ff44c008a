#!/usr/bin/env python3
"""The wall clock jumping backwards and forwards while the sidecar records and rotates segments.

The sidecar runs with `clock_offset.c` preloaded (built here with `cc`): its wall clock is shifted by
the seconds in a file, re-read every 50 ms; the offset jumps (−1 h, +2 h, −10 min, +1 day, back to 0)
while MCP clients call tools and segments rotate every second. The monotonic clock is left alone, as
the kernel does. Then: every answer a client received is recorded, the sequence is contiguous and the
chain intact (`segments verify`), segments kept rotating through every jump, and the records carry the
jumped wall-clock times (what the clock said is what was recorded).

    scripts/faults/clock_jumps.py [--step 4]
"""
import argparse
import json
import pathlib
import subprocess
import time

import faultlib as f

JUMPS = [-3600, 7200, -600, 86400, 0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step", type=float, default=4, help="seconds between jumps")
    args = parser.parse_args()
    work = f.workdir("clock-jumps")
    shim = work / "clock_offset.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(shim), str(pathlib.Path(__file__).with_name("clock_offset.c")), "-ldl"], check=True)
    offset = work / "offset"
    offset.write_text("0\n")
    env = {"LD_PRELOAD": str(shim), "CLOCK_OFFSET_FILE": str(offset)}
    server = f.mcp_server(work)
    spool = work / "spool"
    car = f.sidecar(server.port, spool, work, ["--segment-max-age", "1s"], env=env)
    load = f.Load(car.port, threads=2, rate=50)
    sealed = []
    time.sleep(args.step)
    for jump in JUMPS:
        before = len(list(spool.glob("*.seg.gz")))
        offset.write_text(f"{jump}\n")
        time.sleep(args.step)
        sealed.append(len(list(spool.glob("*.seg.gz"))) - before)
    load.stop()
    car.stop()
    server.process.stop()
    verdict = f.verify(spool)
    recorded = f.recorded_texts(spool)
    missing = [t for t in load.received if t not in recorded]
    years = set()
    hours = set()
    for line in subprocess.run([f.recorder(), "segments", "cat", str(spool)], capture_output=True, text=True).stdout.splitlines():
        ts = json.loads(line).get("ts", "")
        hours.add(ts[:13])
        years.add(ts[:10])
    rotated = all(n > 0 for n in sealed)
    ok = verdict.returncode == 0 and not missing and rotated and len(years) >= 2
    print(f"clock-jumps: wall clock jumped {', '.join(f'{j:+d} s' for j in JUMPS)} every {args.step:g} s under MCP load: "
          f"{len(load.received)} answers, {len(missing)} missing; segments sealed after each jump: {sealed}; records dated on "
          f"{len(years)} days, {len(hours)} hours; segments verify: {'intact' if verdict.returncode == 0 else 'FAILED'}; {'ok' if ok else 'FAILED'}")
    if verdict.returncode != 0:
        print(verdict.stdout[-2000:])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
