#!/usr/bin/env python3
"""Disk full mid-stream: on the sidecar's spool, and on the collector's data volume.

Each runs on its own small tmpfs (needs root for `mount`; loopback only, unmounted at the end).

spool: the spool fills up under MCP load with the collector away. The sidecar must answer 503 and
forward nothing it could not record (the MCP server notes what reached it in $ECHO_LOG), and recover
once the collector is back and shipping frees the space.

collector: the collector's volume fills up while segments arrive; uploads fail (5xx) and the shipper
retries; once the volume is grown, the backlog lands with each segment stored exactly once.

    sudo scripts/faults/disk_full.py [--seconds 20]
"""
import argparse
import json
import os
import subprocess
import time

import faultlib as f


def tmpfs(path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)


def unmount(path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)


def client_requests(spool) -> set:
    texts = set()
    for line in subprocess.run([f.recorder(), "segments", "cat", str(spool), "--kind", "jsonrpc"], capture_output=True, text=True).stdout.splitlines():
        record = json.loads(line)
        if record.get("from") == "client" and record.get("method") == "tools/call":
            texts.add(((record.get("message") or {}).get("params") or {}).get("arguments", {}).get("text"))
    return texts


def spool_full(seconds: float) -> tuple[bool, str]:
    work = f.workdir("disk-full-spool")
    echo_log = work / "server-received.txt"
    os.environ["ECHO_LOG"] = str(echo_log)
    spool = work / "spool"
    tmpfs(spool, "1m")
    try:
        endpoint = f.Endpoint(work)
        server = f.mcp_server(work)
        car = f.sidecar(server.port, spool, work, endpoint.ship_args(
            "--segment-max-bytes", "32KiB", "--segment-max-age", "1s", "--ship-backoff-initial", "100ms", "--ship-backoff-max", "500ms"))
        load = f.Load(car.port, threads=2)
        time.sleep(seconds)
        refused = load.statuses.get(503, 0)
        c = endpoint.collector()
        f.wait_for(lambda: len(list(spool.glob("*.seg.gz"))) <= 1, timeout=120, what="the spool to drain")
        before = load.statuses.get(200, 0)
        time.sleep(5)
        recovered = load.statuses.get(200, 0) - before
        load.stop()
        car.stop()
        f.wait_for(lambda: not list(spool.glob("*.seg.gz")), timeout=60, what="the last segment to ship")
        stored = c.data / "segments" / "faults"
        reached = set(echo_log.read_text().split()) if echo_log.exists() else set()
        unrecorded = reached - client_requests(stored)
        recorded = f.recorded_texts(stored)
        lost = [t for t in load.received if t not in recorded]
        verdict = c.api.get("/v1/streams/faults/verify")
        ok = refused > 0 and recovered > 0 and not unrecorded and not lost and verdict["ok"]
        c.stop()
        server.process.stop()
        return ok, (f"disk-full spool (1 MiB tmpfs, collector away {seconds:.0f} s): {refused} refused 503 while full, "
                    f"{len(reached)} reached the server, {len(unrecorded)} unrecorded; {len(lost)} answers lost; "
                    f"{recovered} answered in the 5 s after the collector freed the space; chain {'intact' if verdict['ok'] else 'BROKEN'}; "
                    f"{'ok' if ok else 'FAILED'}")
    finally:
        unmount(spool)


def collector_full(seconds: float) -> tuple[bool, str]:
    work = f.workdir("disk-full-collector")
    data = work / "collector"
    tmpfs(data, "2m")
    try:
        endpoint = f.Endpoint(work)
        server = f.mcp_server(work)
        c = endpoint.collector(data)
        spool = work / "spool"
        car = f.sidecar(server.port, spool, work, endpoint.ship_args(
            "--segment-max-bytes", "32KiB", "--segment-max-age", "1s", "--ship-backoff-initial", "100ms", "--ship-backoff-max", "500ms"))
        load = f.Load(car.port, threads=2)
        f.wait_for(lambda: len(list(spool.glob("*.seg.gz"))) > 3, timeout=max(60, seconds * 4), what="uploads to fail on the full volume")
        time.sleep(seconds)
        waiting = len(list(spool.glob("*.seg.gz")))
        subprocess.run(["mount", "-o", "remount,size=256m", str(data)], check=True)
        f.wait_for(lambda: len(list(spool.glob("*.seg.gz"))) <= 1, timeout=180, what="the backlog to land")
        load.stop()
        car.stop()
        f.wait_for(lambda: not list(spool.glob("*.seg.gz")), timeout=60, what="the last segment to ship")
        rows = [r["segment"] for r in c.api.segments("faults")]
        files = sorted((data / "segments" / "faults").glob("*.seg.gz"))
        verdict = c.api.get("/v1/streams/faults/verify")
        recorded = f.recorded_texts(data / "segments" / "faults")
        lost = [t for t in load.received if t not in recorded]
        once = rows == list(range(1, len(rows) + 1)) and len(files) == len(rows)
        ok = waiting > 1 and once and verdict["ok"] and not lost
        c.stop()
        server.process.stop()
        return ok, (f"disk-full collector (2 MiB tmpfs, grown after {seconds:.0f} s): {waiting} segments waited on the spool, "
                    f"then {len(rows)} stored exactly once: {once}; {len(lost)} answers lost; chain {'intact' if verdict['ok'] else 'BROKEN'}; "
                    f"{'ok' if ok else 'FAILED'}")
    finally:
        unmount(data)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    failed = False
    for run in (spool_full, collector_full):
        ok, line = run(args.seconds)
        print(line, flush=True)
        failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
