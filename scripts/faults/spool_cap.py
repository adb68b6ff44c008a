#!/usr/bin/env python3
"""The spool cap exceeded while the collector is away, under both policies.

fail-closed: once the spool is full the sidecar answers 503 and forwards nothing it could not record —
every text the MCP server received (it notes each in $ECHO_LOG) is in the recording, and every answer
a client received too. drop-oldest: the sidecar keeps recording, deleting its oldest segments, and
declares each deletion in a `gap` record; once a collector is back, the stored stream verifies with the
gaps excused, and the records stored plus the records the gaps declare are exactly the records written.

    scripts/faults/spool_cap.py [--seconds 20] [--cap 256KiB]
"""
import argparse
import json
import os
import subprocess
import time

import faultlib as f


def run(policy: str, seconds: float, cap: str) -> tuple[bool, str]:
    work = f.workdir(f"spool-cap-{policy}")
    echo_log = work / "server-received.txt"
    os.environ["ECHO_LOG"] = str(echo_log)
    endpoint = f.Endpoint(work)
    server = f.mcp_server(work)
    spool = work / "spool"
    car = f.sidecar(server.port, spool, work, endpoint.ship_args(
        "--spool-max-bytes", cap, "--full-spool", policy, "--segment-max-bytes", "16KiB", "--segment-max-age", "1s",
        "--ship-backoff-initial", "100ms", "--ship-backoff-max", "500ms"))
    load = f.Load(car.port, threads=2)
    time.sleep(seconds)
    load.stop()
    statuses = dict(load.statuses)
    if policy == "fail-closed":
        car.stop()
        recorded = f.recorded_texts(spool)
        requests = set()
        for line in subprocess.run([f.recorder(), "segments", "cat", str(spool), "--kind", "jsonrpc"], capture_output=True, text=True).stdout.splitlines():
            record = json.loads(line)
            if record.get("from") == "client" and record.get("method") == "tools/call":
                requests.add(((record.get("message") or {}).get("params") or {}).get("arguments", {}).get("text"))
        reached = set(echo_log.read_text().split()) if echo_log.exists() else set()
        unrecorded = reached - requests
        lost = [t for t in load.received if t not in recorded]
        ok = statuses.get(503, 0) > 0 and not unrecorded and not lost
        server.process.stop()
        return ok, (f"spool-cap fail-closed ({cap}, {seconds:.0f} s, collector away): {statuses.get(200, 0)} answered, "
                    f"{statuses.get(503, 0)} refused 503; {len(reached)} reached the server, {len(unrecorded)} of them unrecorded; "
                    f"{len(lost)} answers missing from the recording; {'ok' if ok else 'FAILED'}")
    # drop-oldest: bring a collector and let the rest ship.
    c = endpoint.collector()
    f.wait_for(lambda: not list(spool.glob("*.seg.gz")), timeout=120, what="the spool to drain")
    car.stop()
    f.wait_for(lambda: not list(spool.glob("*.seg.gz")), timeout=60, what="the last segment to ship")
    verdict = c.api.get("/v1/streams/faults/verify")
    stored = c.data / "segments" / "faults"
    lines = [json.loads(line) for line in subprocess.run([f.recorder(), "segments", "cat", str(stored)], capture_output=True, text=True).stdout.splitlines() if line.strip()]
    seqs = [r["seq"] for r in lines if "seq" in r]
    gaps = [r for r in lines if r.get("kind") == "gap"]
    # Each gap record declares the current run of dropped segments cumulatively: per run, the widest counts.
    runs: dict = {}
    for g in gaps:
        if g.get("first_seq") is not None and (g.get("first_segment") not in runs or g["last_seq"] > runs[g.get("first_segment")]["last_seq"]):
            runs[g.get("first_segment")] = g
    declared_seqs: list[int] = [s for g in runs.values() for s in range(g["first_seq"], g["last_seq"] + 1)]
    declared = sum(g["records"] for g in runs.values())
    stored_seqs = set(seqs)
    everything = set(range(1, max(seqs) + 1)) if seqs else set()
    exact = (len(declared_seqs) == declared and not stored_seqs & set(declared_seqs)
             and stored_seqs | set(declared_seqs) == everything)
    events = [e["kind"] for e in verdict["integrity_events"]]
    # Known limit: a drop declared only in a later segment than the first one stored is recorded as
    # `missing` at ingest (the collector cannot know yet); verify excuses it once the gap record is stored.
    ok = verdict["ok"] and gaps and exact
    c.stop()
    server.process.stop()
    return bool(ok), (f"spool-cap drop-oldest ({cap}, {seconds:.0f} s, collector away): {statuses.get(200, 0)} answered, "
                      f"{len(gaps)} gap records declaring {declared} dropped records; stored {len(set(seqs))} records of seq "
                      f"{min(seqs) if seqs else 0}…{max(seqs) if seqs else 0}, gaps exact: {exact}; verify "
                      f"{'intact' if verdict['ok'] else 'FAILED'} ({events.count('declared_gap')} declared_gap, {events.count('missing')} missing); "
                      f"{'ok' if ok else 'FAILED'}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--cap", default="256KiB")
    args = parser.parse_args()
    failed = False
    for policy in ("fail-closed", "drop-oldest"):
        ok, line = run(policy, args.seconds, args.cap)
        print(line, flush=True)
        failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
