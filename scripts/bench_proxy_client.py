#!/usr/bin/env python3
"""Load generator, SSE client, RSS watcher and report for scripts/bench-proxy.sh.

Standard library only. Subcommands (each prints one JSON object on stdout):

  rate      open-loop POST load at a constant rate over keep-alive connections;
            per-request latency (send → complete response), optional RSS/CPU
            sampling of a process while it runs
  sse       read /sse?events=N&interval-ms=M and compute, per event,
            receive time − the send timestamp (CLOCK_REALTIME ns) in the event
  watch     run a command while sampling a process's VmRSS; report the maximum
  rss       print a process's VmRSS (KiB)
  report    turn the collected JSON lines into a Markdown report with PASS/FAIL
"""

import argparse
import collections
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

MCP_REQUEST = (
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_docs",'
    b'"arguments":{"query":"deployment guide for the pod namespace","limit":10},'
    b'"_meta":{"progressToken":1}}}'
)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list (p in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, int(-(-p * len(sorted_values) // 100)))  # ceil
    return sorted_values[min(rank, len(sorted_values)) - 1]


def read_rss_kib(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss(pid):
    """Resets the kernel's peak RSS (VmHWM) of `pid` to its current RSS; False if not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def read_cpu_ticks(pid):
    """utime + stime of all threads of `pid`, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
    except OSError:
        return None


class Conn:
    __slots__ = ("sock", "buf", "start", "busy")

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.start = 0
        self.busy = False


def parse_response(buf):
    """Length of the first complete response in buf and its status, or (None, None)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, None
    head = bytes(buf[:end]).decode("latin-1")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        tail = buf.find(b"\r\n0\r\n\r\n", end)
        if tail < 0:
            return None, None
        return tail + 7, status
    total = end + 4 + length
    if len(buf) < total:
        return None, None
    return total, status


def cmd_rate(a):
    request = (
        f"POST {a.path} HTTP/1.1\r\nHost: {a.host}:{a.port}\r\n"
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        f"Content-Length: {len(MCP_REQUEST)}\r\n\r\n"
    ).encode() + MCP_REQUEST
    ep = select.epoll()
    conns = {}
    idle = collections.deque()

    def open_conn():
        s = socket.create_connection((a.host, a.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        c = Conn(s)
        conns[s.fileno()] = c
        ep.register(s.fileno(), select.EPOLLIN)
        return c

    for _ in range(a.connections):
        idle.append(open_conn())

    interval = 1e9 / a.rate
    clock = time.perf_counter_ns
    t0 = clock()
    measure_from = t0 + int(a.warmup * 1e9)
    stop_sending = measure_from + int(a.duration * 1e9)
    next_send = float(t0)
    latencies = []
    errors = 0
    sent = 0
    opened_extra = 0
    late = []
    rss_max = None
    next_sample = t0
    cpu_start = None
    cpu_end = None
    outstanding = 0

    while True:
        now = clock()
        if a.watch_pid and now >= next_sample:
            rss = read_rss_kib(a.watch_pid)
            if rss is not None and now >= measure_from:
                rss_max = rss if rss_max is None else max(rss_max, rss)
            next_sample = now + 100_000_000
        if a.watch_pid and cpu_start is None and now >= measure_from:
            cpu_start = (read_cpu_ticks(a.watch_pid), now)
        if now >= stop_sending and outstanding == 0:
            break
        if now >= stop_sending + 5_000_000_000:
            errors += outstanding  # stuck requests count as errors
            break
        while now < stop_sending and next_send <= now:
            if idle:
                c = idle.popleft()
            else:
                c = open_conn()
                opened_extra += 1
            if now >= measure_from:
                late.append(now - next_send)
            c.start = clock()
            c.busy = True
            c.sock.send(request)
            outstanding += 1
            sent += 1
            next_send += interval
            now = clock()
        if now < stop_sending:
            timeout = max(0.0, (next_send - clock()) / 1e9)
        else:
            timeout = 0.05
        if a.watch_pid:
            timeout = min(timeout, 0.1)
        for fd, _ in ep.poll(timeout):
            c = conns[fd]
            data = c.sock.recv(65536)
            t = clock()
            if not data:
                ep.unregister(fd)
                del conns[fd]
                c.sock.close()
                if c.busy:
                    errors += 1
                    outstanding -= 1
                continue
            c.buf += data
            total, status = parse_response(c.buf)
            if total is None:
                continue
            del c.buf[:total]
            if c.start >= measure_from:
                if status == 200:
                    latencies.append(t - c.start)
                else:
                    errors += 1
            c.busy = False
            outstanding -= 1
            idle.append(c)
    if a.watch_pid:
        cpu_end = (read_cpu_ticks(a.watch_pid), clock())
    for c in conns.values():
        c.sock.close()

    latencies.sort()
    late.sort()
    ms = lambda ns: None if ns is None else round(ns / 1e6, 4)
    out = {
        "rate": a.rate,
        "duration_s": a.duration,
        "sent": sent,
        "completed": len(latencies),
        "errors": errors,
        "achieved_rps": round(len(latencies) / a.duration, 1),
        "connections": a.connections + opened_extra,
        "p50_ms": ms(percentile(latencies, 50)),
        "p90_ms": ms(percentile(latencies, 90)),
        "p99_ms": ms(percentile(latencies, 99)),
        "p999_ms": ms(percentile(latencies, 99.9)),
        "max_ms": ms(latencies[-1] if latencies else None),
        "send_lateness_p99_ms": ms(percentile(late, 99)),
    }
    if a.watch_pid:
        out["rss_max_kib"] = rss_max
        if cpu_start and cpu_start[0] is not None and cpu_end[0] is not None:
            ticks = cpu_end[0] - cpu_start[0]
            hz = os.sysconf("SC_CLK_TCK")
            out["proxy_cpu_s"] = round(ticks / hz, 2)
            out["proxy_cpu_us_per_req"] = round(ticks / hz * 1e6 / max(1, len(latencies)), 1)
    print(json.dumps(out))


def cmd_sse(a):
    samples = []
    indexed = []  # (latency, stream, event index) for the slowest-events list
    for run in range(a.runs):
        s = socket.create_connection((a.host, a.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(
            f"GET /sse?events={a.events}&interval-ms={a.interval_ms} HTTP/1.1\r\n"
            f"Host: {a.host}:{a.port}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        raw = bytearray()
        body = bytearray()
        head_done = False
        chunked = False
        count = 0
        done = False
        pattern = re.compile(rb'"sent_ns":(\d+)\}')
        s.settimeout(30)
        while not done:
            data = s.recv(65536)
            t = time.time_ns()  # CLOCK_REALTIME, as the backend's timestamps
            if not data:
                break
            raw += data
            if not head_done:
                end = raw.find(b"\r\n\r\n")
                if end < 0:
                    continue
                head = bytes(raw[:end]).decode("latin-1").lower()
                if " 200 " not in head.split("\r\n")[0] + " ":
                    raise SystemExit(f"sse: unexpected response head {head!r}")
                chunked = "transfer-encoding: chunked" in head
                del raw[: end + 4]
                head_done = True
            if chunked:
                while True:
                    line_end = raw.find(b"\r\n")
                    if line_end < 0:
                        break
                    size = int(bytes(raw[:line_end]).split(b";")[0], 16)
                    if size == 0:
                        done = True
                        break
                    if len(raw) < line_end + 2 + size + 2:
                        break
                    body += raw[line_end + 2 : line_end + 2 + size]
                    del raw[: line_end + 2 + size + 2]
            else:
                body += raw
                raw.clear()
            last = 0
            for m in pattern.finditer(body):
                samples.append(t - int(m.group(1)))
                indexed.append((samples[-1], run, count))
                count += 1
                last = m.end()
            del body[:last]
            if count >= a.events:
                done = True
        s.close()
    samples.sort()
    ms = lambda ns: None if ns is None else round(ns / 1e6, 4)
    print(json.dumps({
        "events": len(samples),
        "expected": a.events * a.runs,
        "p50_ms": ms(percentile(samples, 50)),
        "p90_ms": ms(percentile(samples, 90)),
        "p99_ms": ms(percentile(samples, 99)),
        "max_ms": ms(samples[-1] if samples else None),
        "slowest": [[ms(lat), f"stream {run} event {i}"] for lat, run, i in sorted(indexed, reverse=True)[:12]],
    }))


def cmd_watch(a):
    # The kernel's peak (VmHWM, reset first) sees what sampling every interval can miss.
    peak_known = reset_peak_rss(a.pid)
    before = read_rss_kib(a.pid)
    started = time.monotonic()
    proc = subprocess.Popen(a.command, stdout=subprocess.PIPE)

    def stop(signum, frame):  # the script is being stopped: take the command along
        proc.terminate()
        sys.exit(1)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    rss_max = before
    while proc.poll() is None:
        rss = read_rss_kib(a.pid)
        if rss is not None:
            rss_max = max(rss_max or 0, rss)
        time.sleep(a.interval)
    out, _ = proc.communicate()
    elapsed = time.monotonic() - started
    after = read_rss_kib(a.pid)
    peak = read_rss_kib(a.pid, "VmHWM") if peak_known else None
    print(json.dumps({
        "rc": proc.returncode,
        "output": out.decode(errors="replace").strip(),
        "elapsed_s": round(elapsed, 3),
        "rss_before_kib": before,
        "rss_max_kib": max(rss_max or 0, peak or 0) or None,
        "rss_peak_from": "VmHWM" if peak is not None else "samples",
        "rss_after_kib": after,
    }))


def cmd_rss(a):
    print(json.dumps({"rss_kib": read_rss_kib(a.pid)}))


# ---------------------------------------------------------------- report

def mib(kib):
    return None if kib is None else kib / 1024


def fmt(v, digits=2, suffix=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{digits}f}{suffix}"
    return f"{v:,}{suffix}"


def verdict(ok):
    if ok is None:
        return "n/a"
    return "**PASS**" if ok else "**FAIL**"


def cmd_report(a):
    r = {}
    with open(a.results) as f:
        for line in f:
            line = line.strip()
            if line:
                entry = json.loads(line)
                r[entry["key"]] = entry["value"]
    env = os.environ
    backends = [("trivial", "trivial backend (0 ms)"), ("mcp", "MCP-like backend (1 ms)")]
    targets = ["direct", "sidecar", "haproxy"]
    out = []
    w = out.append
    w("# Recording proxy benchmark")
    w("")
    w(f"- Command: `{env.get('BENCH_COMMAND', '?')}`")
    w(f"- Machine: {env.get('BENCH_NPROC', '?')} CPUs, {env.get('BENCH_CPU', '?')}, {env.get('BENCH_KERNEL', '?')}")
    w(f"- {env.get('BENCH_SWIFT', '?')}; {env.get('BENCH_HAPROXY', '?')}; {env.get('BENCH_WRK', '?')}")
    w(f"- Commit: {env.get('BENCH_COMMIT', '?')}; load average before/after: {env.get('BENCH_LOAD_BEFORE', '?')} / {env.get('BENCH_LOAD_AFTER', '?')}")
    w(f"- Sidecar: {env.get('BENCH_SIDECAR_ARGS', '?')}")
    w("")

    # Throughput
    w(f"## Throughput (wrk, {env.get('BENCH_WRK_SHAPE', '?')}, POST /mcp, keep-alive)")
    w("")
    w("| Backend | Direct req/s | Sidecar req/s | HAProxy req/s | Sidecar ÷ direct | Sidecar ÷ HAProxy | Proxy CPU per request, sidecar / HAProxy | Errors (d/s/h) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    ratios = {}
    for b, label in backends:
        t = {x: r.get(f"wrk.{b}.{x}") for x in targets}
        rps = {x: (t[x] or {}).get("rps") for x in targets}
        sd = rps["sidecar"] / rps["direct"] if rps["sidecar"] and rps["direct"] else None
        sh = rps["sidecar"] / rps["haproxy"] if rps["sidecar"] and rps["haproxy"] else None
        ratios[b] = (sd, sh)
        cpu = " / ".join(fmt((t[x] or {}).get("proxy_cpu_us_per_req"), 1, " µs") for x in ("sidecar", "haproxy"))
        errs = "/".join(str((t[x] or {}).get("errors", "?")) for x in targets)
        w(f"| {label} | {fmt(rps['direct'], 0)} | {fmt(rps['sidecar'], 0)} | {fmt(rps['haproxy'], 0)} | {fmt(sd, 3, '×')} | {fmt(sh, 3, '×')} | {cpu} | {errs} |")
    w("")

    # Latency
    rate = env.get("BENCH_RATE", "500")
    w(f"## Latency at a constant {rate} req/s (open loop, {env.get('BENCH_LAT_SHAPE', '?')})")
    w("")
    w("| Backend | Target | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | added p50 ms | added p99 ms | proxy CPU per request | completed / errors |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    added = {}
    for b, label in backends:
        d = r.get(f"lat.{b}.direct") or {}
        for x in targets:
            l = r.get(f"lat.{b}.{x}") or {}
            a50 = a99 = None
            if x != "direct" and l.get("p50_ms") is not None and d.get("p50_ms") is not None:
                a50 = l["p50_ms"] - d["p50_ms"]
                a99 = l["p99_ms"] - d["p99_ms"]
                added[(b, x)] = (a50, a99)
            w(f"| {label} | {x} | {fmt(l.get('p50_ms'), 3)} | {fmt(l.get('p90_ms'), 3)} | {fmt(l.get('p99_ms'), 3)} | {fmt(l.get('p999_ms'), 3)} | {fmt(l.get('max_ms'), 3)} | {fmt(a50, 3) if x != 'direct' else '—'} | {fmt(a99, 3) if x != 'direct' else '—'} | {fmt(l.get('proxy_cpu_us_per_req'), 0, ' µs') if x != 'direct' else '—'} | {l.get('completed', '?')} / {l.get('errors', '?')} |")
    w("")

    # SSE
    w(f"## SSE per-event latency (`/sse?events={env.get('BENCH_SSE_EVENTS', '?')}&interval-ms={env.get('BENCH_SSE_INTERVAL', '?')}`, {env.get('BENCH_SSE_RUNS', '?')} streams each, trivial backend)")
    w("")
    w("| Target | events | p50 ms | p90 ms | p99 ms | max ms | added p50 ms | added p99 ms |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    sd = r.get("sse.direct") or {}
    sse_added = {}
    for x in targets:
        s = r.get(f"sse.{x}") or {}
        a50 = a99 = None
        if x != "direct" and s.get("p50_ms") is not None and sd.get("p50_ms") is not None:
            a50 = s["p50_ms"] - sd["p50_ms"]
            a99 = s["p99_ms"] - sd["p99_ms"]
            sse_added[x] = (a50, a99)
        w(f"| {x} | {s.get('events', '?')}/{s.get('expected', '?')} | {fmt(s.get('p50_ms'), 3)} | {fmt(s.get('p90_ms'), 3)} | {fmt(s.get('p99_ms'), 3)} | {fmt(s.get('max_ms'), 3)} | {fmt(a50, 3) if x != 'direct' else '—'} | {fmt(a99, 3) if x != 'direct' else '—'} |")
    w("")

    # Memory
    w("## Sidecar memory (VmRSS)")
    w("")
    w("| Measure | Trivial-backend sidecar | MCP-backend sidecar |")
    w("|---|---:|---:|")
    idle = {b: mib((r.get(f"rss.idle.{b}") or {}).get("rss_kib")) for b, _ in backends}
    at_rate = {b: mib((r.get(f"lat.{b}.sidecar") or {}).get("rss_max_kib")) for b, _ in backends}
    end = {b: mib((r.get(f"rss.end.{b}") or {}).get("rss_kib")) for b, _ in backends}
    w(f"| idle after start | {fmt(idle['trivial'], 1, ' MiB')} | {fmt(idle['mcp'], 1, ' MiB')} |")
    w(f"| max during {rate} req/s (the first load after start) | {fmt(at_rate['trivial'], 1, ' MiB')} | {fmt(at_rate['mcp'], 1, ' MiB')} |")
    at_wrk = {b: mib((r.get(f"wrk.{b}.sidecar") or {}).get("rss_max_kib")) for b, _ in backends}
    w(f"| max during wrk ({env.get('BENCH_WRK_CONNECTIONS', '?')} connections, saturated) | {fmt(at_wrk['trivial'], 1, ' MiB')} | {fmt(at_wrk['mcp'], 1, ' MiB')} |")
    growths = {}
    for key, label in (("big", "body"), ("bigjson", "JSON body"), ("bigsse", "SSE result")):
        big = r.get(f"{key}.sidecar") or {}
        if big.get("rss_max_kib") is not None and big.get("rss_before_kib") is not None:
            growths[key] = mib(big["rss_max_kib"] - big["rss_before_kib"])
        w(f"| before the {env.get('BENCH_BIG_MB', '?')} MiB {label} → peak during it ({big.get('rss_peak_from', '?')}) | {fmt(mib(big.get('rss_before_kib')), 1, ' MiB')} → {fmt(mib(big.get('rss_max_kib')), 1, ' MiB')} (growth {fmt(growths.get(key), 1, ' MiB')}) | — |")
    big_growth = max(growths.values(), default=None)
    w(f"| at the end of the run | {fmt(end['trivial'], 1, ' MiB')} | {fmt(end['mcp'], 1, ' MiB')} |")
    w("")
    w(f"## Large body (`GET /big?mb={env.get('BENCH_BIG_MB', '?')}`, {env.get('BENCH_BIG_MB', '?')} MiB, curl to /dev/null, trivial backend)")
    w("")
    w("As `application/octet-stream`, as one JSON-RPC result (`&json=1`, `application/json`: redacted and skimmed), and as that result in one Server-Sent Event (`&sse=1`).")
    w("")
    w("| Body | Target | seconds | MB/s | curl result |")
    w("|---|---|---:|---:|---|")
    for key, label in (("big", "bytes"), ("bigjson", "JSON"), ("bigsse", "SSE")):
        for x in targets:
            g = r.get(f"{key}.{x}") or {}
            secs = g.get("elapsed_s")
            size = next((int(t) for t in str(g.get("output", "")).split()[1:2] if t.isdigit()), None)
            w(f"| {label} | {x} | {fmt(secs, 3)} | {fmt(size / 1e6 / secs if secs and size else None, 0)} | `{g.get('output', '?')}` |")
    w("")
    if r.get("spool"):
        w(f"Spool after the run: {r['spool'].get('text', '?')}")
        w("")

    # Verdict
    w("## Verdict against the product brief §11")
    w("")
    w("| Target | Measured | Result |")
    w("|---|---|---|")
    sd1 = ratios.get("mcp", (None, None))[0]
    w(f"| Throughput ≥ 0.85× direct, 1 ms backend | {fmt(sd1, 3, '×')} | {verdict(None if sd1 is None else sd1 >= 0.85)} |")
    sh0 = ratios.get("trivial", (None, None))[1]
    w(f"| Throughput ≥ 1.0× HAProxy (1 thread), trivial backend | {fmt(sh0, 3, '×')} | {verdict(None if sh0 is None else sh0 >= 1.0)} |")
    for b, label in backends:
        s = added.get((b, "sidecar"))
        h = added.get((b, "haproxy"))
        if s is None:
            w(f"| Added p50 ≤ 0.2 ms at {rate} req/s, {label} | n/a | n/a |")
            w(f"| Added p99 ≤ 1 ms or ≤ HAProxy's, {label} | n/a | n/a |")
            continue
        w(f"| Added p50 ≤ 0.2 ms at {rate} req/s, {label} | {fmt(s[0], 3, ' ms')} (HAProxy {fmt(h[0] if h else None, 3, ' ms')}) | {verdict(s[0] <= 0.2)} |")
        ok99 = s[1] <= 1.0 or (h is not None and s[1] <= h[1])
        w(f"| Added p99 ≤ 1 ms or ≤ HAProxy's, {label} | {fmt(s[1], 3, ' ms')} (HAProxy {fmt(h[1] if h else None, 3, ' ms')}) | {verdict(ok99)} |")
    ss = sse_added.get("sidecar")
    w(f"| SSE: added p99 per event ≤ 1 ms | {fmt(ss[1] if ss else None, 3, ' ms')} (p99 {fmt((r.get('sse.sidecar') or {}).get('p99_ms'), 3, ' ms')} vs direct {fmt(sd.get('p99_ms'), 3, ' ms')}) | {verdict(None if ss is None else ss[1] <= 1.0)} |")
    idle_max = max([v for v in idle.values() if v is not None], default=None)
    w(f"| RSS idle ≤ 30 MiB | {fmt(idle_max, 1, ' MiB')} | {verdict(None if idle_max is None else idle_max <= 30)} |")
    rate_max = max([v for v in at_rate.values() if v is not None], default=None)
    w(f"| RSS ≤ 64 MiB at {rate} req/s | {fmt(rate_max, 1, ' MiB')} | {verdict(None if rate_max is None else rate_max <= 64)} |")
    w(f"| RSS growth ≤ 10 MiB streaming {env.get('BENCH_BIG_MB', '?')} MiB (bytes; JSON; SSE) | {fmt(growths.get('big'), 1, ' MiB')}; {fmt(growths.get('bigjson'), 1, ' MiB')}; {fmt(growths.get('bigsse'), 1, ' MiB')} | {verdict(None if big_growth is None else big_growth <= 10)} |")
    w("")
    print("\n".join(out))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    q = sub.add_parser("rate")
    q.add_argument("--host", default="127.0.0.1")
    q.add_argument("--port", type=int, required=True)
    q.add_argument("--path", default="/mcp")
    q.add_argument("--rate", type=float, default=500)
    q.add_argument("--duration", type=float, default=10)
    q.add_argument("--warmup", type=float, default=1)
    q.add_argument("--connections", type=int, default=16)
    q.add_argument("--watch-pid", type=int)
    q.set_defaults(func=cmd_rate)

    q = sub.add_parser("sse")
    q.add_argument("--host", default="127.0.0.1")
    q.add_argument("--port", type=int, required=True)
    q.add_argument("--events", type=int, default=200)
    q.add_argument("--interval-ms", type=int, default=5)
    q.add_argument("--runs", type=int, default=1)
    q.set_defaults(func=cmd_sse)

    q = sub.add_parser("watch")
    q.add_argument("--pid", type=int, required=True)
    q.add_argument("--interval", type=float, default=0.02)
    q.add_argument("command", nargs=argparse.REMAINDER)
    q.set_defaults(func=cmd_watch)

    q = sub.add_parser("rss")
    q.add_argument("--pid", type=int, required=True)
    q.set_defaults(func=cmd_rss)

    q = sub.add_parser("report")
    q.add_argument("results")
    q.set_defaults(func=cmd_report)

    a = p.parse_args()
    if getattr(a, "command", None) and a.command[:1] == ["--"]:
        a.command = a.command[1:]
    a.func(a)


if __name__ == "__main__":
    main()
