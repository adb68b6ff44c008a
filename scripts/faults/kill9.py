#!/usr/bin/env python3
"""kill -9 of the sidecar at random moments under MCP SDK load.

Each round starts the sidecar on the same spool, drives MCP tool calls through it from two clients,
and SIGKILLs it at a random moment. At the end one clean start and stop recovers the last crash.
Then: every answer a client received must be in the recording, and `segments verify` must find the
spool intact (each crashed segment sealed as `recovered`, its torn tail cut and noted).

    scripts/faults/kill9.py [--kills 50] [--seed N]
"""
import argparse
import os
import random
import signal
import time

import faultlib as f


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = f.workdir("kill9")
    server = f.mcp_server(work)
    spool = work / "spool"
    received: list[str] = []
    started = time.monotonic()
    for n in range(args.kills):
        car = f.sidecar(server.port, spool, work, ["--fsync-interval", "1s"], tag=str(n))
        load = f.Load(car.port, threads=2)
        time.sleep(rng.uniform(0.2, 1.5))
        os.kill(car.process.pid, signal.SIGKILL)
        car.process.proc.wait(10)
        car.exit_code = -9
        load.stop()
        received += load.received
    last = f.sidecar(server.port, spool, work, tag="final")
    last.stop()
    server.process.stop()
    verdict = f.verify(spool)
    recorded = f.recorded_texts(spool)
    missing = [t for t in received if t not in recorded]
    segments = len(list(spool.glob("*.seg.gz")))
    ok = verdict.returncode == 0 and not missing
    print(f"kill9: {args.kills} kills (seed {args.seed}) in {time.monotonic() - started:.0f} s: {len(received)} answers received, "
          f"{len(missing)} missing from the recording; segments verify: {'intact' if verdict.returncode == 0 else 'FAILED'} "
          f"({segments} segments); {'ok' if ok else 'FAILED'}")
    if not ok:
        print(verdict.stdout[-3000:], missing[:10])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
