#!/usr/bin/env python3
"""The collector killed (SIGKILL) at random points of ingest, while a sidecar ships steadily.

The sidecar seals small segments under MCP load and ships them; the collector is killed at random
moments and started again on the same data directory. At the end the backlog drains, and each
segment must be stored exactly once: contiguous numbers, one file per index row (no leftover of an
interrupted upload), no conflict event, the chain intact, every answer a client received stored.

    scripts/faults/collector_kill.py [--kills 20] [--seed N]
"""
import argparse
import random
import time

import faultlib as f


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = f.workdir("collector-kill")
    endpoint = f.Endpoint(work)
    data = work / "collector"
    server = f.mcp_server(work)
    spool = work / "spool"
    car = f.sidecar(server.port, spool, work, endpoint.ship_args(
        "--segment-max-bytes", "8KiB", "--segment-max-age", "1s", "--ship-backoff-initial", "50ms", "--ship-backoff-max", "500ms",
        "--heartbeat-interval", "1s"))
    load = f.Load(car.port, threads=2, rate=100)
    started = time.monotonic()
    c = endpoint.collector(data)
    for n in range(args.kills):
        time.sleep(rng.uniform(0.3, 2.5))
        c.kill()
        time.sleep(rng.uniform(0.0, 1.0))
        c.start()
    load.stop()
    car.stop()
    f.wait_for(lambda: not list(spool.glob("*.seg.gz")), timeout=300, what="the backlog to drain")
    api = c.api
    rows = api.segments("faults")
    numbers = [r["segment"] for r in rows]
    files = sorted((data / "segments" / "faults").glob("*.seg.gz"))
    verdict = api.get("/v1/streams/faults/verify")
    conflicts = [e for e in verdict["integrity_events"] if e["kind"] == "conflict"]
    recorded = f.recorded_texts(data / "segments" / "faults")
    missing = [t for t in load.received if t not in recorded]
    exactly_once = numbers == list(range(1, len(numbers) + 1)) and len(files) == len(numbers)
    ok = exactly_once and verdict["ok"] and not conflicts and not missing
    c.stop()
    server.process.stop()
    print(f"collector-kill: {args.kills} collector SIGKILLs (seed {args.seed}) in {time.monotonic() - started:.0f} s under MCP load: "
          f"{len(numbers)} segments stored, {len(files)} files, exactly once: {exactly_once}; {len(load.received)} answers, "
          f"{len(missing)} missing; chain {'intact' if verdict['ok'] else 'BROKEN'}; {len(conflicts)} conflicts; {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
