#!/usr/bin/env python3
"""A collector outage under steady MCP load, within the spool cap.

The sidecar ships to a collector; after a warm-up the collector is stopped for --minutes (10 by
default; `--minutes 60` is the documented one-hour run) while clients keep calling tools at --rate.
Then the collector comes back: the backlog must drain, nothing may be lost (every answer a client
received is stored), and the stored stream must verify.

    scripts/faults/outage.py [--minutes 10] [--rate 20] [--cap 1GiB]
"""
import argparse
import time

import faultlib as f


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--cap", default="1GiB")
    args = parser.parse_args()
    work = f.workdir("outage")
    endpoint = f.Endpoint(work)
    server = f.mcp_server(work)
    spool = work / "spool"
    c = endpoint.collector()
    car = f.sidecar(server.port, spool, work, endpoint.ship_args(
        "--spool-max-bytes", args.cap, "--segment-max-age", "5s", "--ship-backoff-max", "10s"))
    load = f.Load(car.port, threads=2, rate=args.rate)
    time.sleep(20)
    c.stop()
    down = time.monotonic()
    time.sleep(args.minutes * 60)
    backlog = list(spool.glob("*.seg.gz"))
    backlog_bytes = sum(p.stat().st_size for p in backlog)
    c.start()
    back = time.monotonic()
    f.wait_for(lambda: len(list(spool.glob("*.seg.gz"))) <= 1, timeout=900, interval=0.2, what="the backlog to drain")
    drained = time.monotonic() - back
    load.stop()
    car.stop()
    f.wait_for(lambda: not list(spool.glob("*.seg.gz")), timeout=120, what="the last segment to ship")
    # Compared first, from the stored files (the collector's verify API re-reads every segment: slow on a
    # long run in a debug build), then the chain offline and the collector's integrity events.
    stored = c.data / "segments" / "faults"
    recorded = f.recorded_texts(stored)
    missing = [t for t in load.received if t not in recorded]
    print(f"outage: {len(load.received)} answers, {len(missing)} missing from the collector's copy", flush=True)
    chain = f.verify(stored)
    events = c.api.get("/v1/integrity-events?stream=faults")["events"]
    ok = chain.returncode == 0 and not events and not missing and load.statuses.get(503, 0) == 0
    c.stop()
    server.process.stop()
    print(f"outage: collector down {(back - down) / 60:.1f} min under {args.rate:g} calls/s: {len(load.received)} answers, "
          f"{len(missing)} lost, {load.statuses.get(503, 0)} refused; backlog {len(backlog)} segments ({backlog_bytes / 1e6:.1f} MB) "
          f"drained in {drained:.1f} s; chain {'intact' if chain.returncode == 0 else 'BROKEN'}, {len(events)} integrity events; "
          f"{'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
