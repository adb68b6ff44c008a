#!/usr/bin/env python3
"""Helpers for scripts/bench-webhook.sh (admission latency of `mcp-recorder webhook`).

Subcommands:

  review    CASE_YAML OUT_JSON — wrap a pod manifest in the AdmissionReview the API
            server sends for its CREATE (as the ReplicaSet controller creates it)
  check     REVIEW_JSON RESPONSE_JSON [--expected YAML --image I --collector-url U]
            — decode one /mutate answer: allowed, the uid echoed, a JSONPatch that
            applies to the pod and injects the recorder; prints a JSON summary and
            exits 1 if the answer is not a real patch
  nginx-set RESPONSE_JSON — the response as nginx `set` directives (each string
            shorter than nginx's 4 KiB token limit) for `return 200 "$r0$r1…"`
  hey       CSV... [--cpu-ticks N HZ] [--client-cpu-ms MS] [--machine-busy-ticks N] — latency percentiles, achieved rate and
            status counts of one `hey -o csv` run, or of several hey processes
            run side by side (rates add up); prints JSON
  histo     BEFORE AFTER — the webhook's own admission-duration histogram
            (/metrics) between two scrapes; prints JSON
  report    RESULTS_JSONL — the Markdown report (environment: BENCH_*)

PyYAML is needed for `review` and `check --expected` only.
"""

import base64
import copy
import json
import os
import re
import sys

ANNOTATION_STATUS = "mcp-recorder.io/status"


def percentile(sorted_values, p):
    """Nearest-rank percentile of a sorted list (p in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(p * 1000) * len(sorted_values) // 100000))  # ceil(p/100 · n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


# ---------------------------------------------------------------- review


def cmd_review(case_yaml, out_json):
    import yaml  # PyYAML (Debian: python3-yaml)

    with open(case_yaml) as f:
        pod = yaml.safe_load(f)
    ns = pod.get("metadata", {}).get("namespace", "default")
    gvk = {"group": "", "version": "v1", "kind": "Pod"}
    gvr = {"group": "", "version": "v1", "resource": "pods"}
    review = {
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": "5b6f4e1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
            "kind": gvk,
            "resource": gvr,
            "requestKind": gvk,
            "requestResource": gvr,
            "name": pod.get("metadata", {}).get("name", ""),
            "namespace": ns,
            "operation": "CREATE",
            "userInfo": {
                "username": "system:serviceaccount:kube-system:replicaset-controller",
                "uid": "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
            },
            "object": pod,
            "oldObject": None,
            "dryRun": False,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"},
        },
    }
    body = json.dumps(review, separators=(",", ":")).encode()
    with open(out_json, "wb") as f:
        f.write(body)
    print(json.dumps({"bytes": len(body), "namespace": ns}))


# ---------------------------------------------------------------- check


def _pointer(path):
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _apply_patch(doc, ops):
    """A minimal RFC 6902 applier (add, remove, replace, test, copy, move)."""
    doc = copy.deepcopy(doc)

    def parent(tokens):
        node = doc
        for t in tokens[:-1]:
            node = node[int(t)] if isinstance(node, list) else node[t]
        return node, tokens[-1]

    def get(tokens):
        node = doc
        for t in tokens:
            node = node[int(t)] if isinstance(node, list) else node[t]
        return node

    for op in ops:
        kind, tokens = op["op"], _pointer(op["path"])
        if kind == "test":
            if get(tokens) != op["value"]:
                raise ValueError(f"test failed at {op['path']}")
            continue
        if kind in ("copy", "move"):
            src = _pointer(op["from"])
            value = copy.deepcopy(get(src))
            if kind == "move":
                p, k = parent(src)
                del p[int(k) if isinstance(p, list) else k]
            op = {"op": "add", "path": op["path"], "value": value}
            kind = "add"
        if not tokens:
            doc = copy.deepcopy(op["value"])
            continue
        p, k = parent(tokens)
        if kind == "add":
            if isinstance(p, list):
                if k == "-":
                    p.append(copy.deepcopy(op["value"]))
                else:
                    p.insert(int(k), copy.deepcopy(op["value"]))
            else:
                p[k] = copy.deepcopy(op["value"])
        elif kind == "replace":
            if isinstance(p, list):
                p[int(k)] = copy.deepcopy(op["value"])
            else:
                if k not in p:
                    raise ValueError(f"replace of a missing member {op['path']}")
                p[k] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del p[int(k) if isinstance(p, list) else k]
        else:
            raise ValueError(f"unknown op {kind}")
    return doc


def _replace_strings(value, old, new):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace_strings(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace_strings(v, old, new) for k, v in value.items()}
    return value


def cmd_check(review_json, response_json, expected=None, image=None, collector_url=None):
    with open(review_json, "rb") as f:
        review = json.load(f)
    with open(response_json, "rb") as f:
        raw = f.read()
    problems = []
    summary = {"response_bytes": len(raw)}
    try:
        answer = json.loads(raw)
    except ValueError as e:
        print(json.dumps({"ok": False, "problems": [f"the answer is not JSON: {e}: {raw[:200]!r}"]}))
        sys.exit(1)
    resp = answer.get("response") or {}
    if answer.get("apiVersion") != "admission.k8s.io/v1" or answer.get("kind") != "AdmissionReview":
        problems.append(f"not an admission.k8s.io/v1 AdmissionReview: {str(answer)[:200]}")
    if resp.get("uid") != review["request"]["uid"]:
        problems.append("the uid is not echoed")
    if resp.get("allowed") is not True:
        problems.append(f"not allowed: {resp.get('status')}")
    if resp.get("patchType") != "JSONPatch" or not resp.get("patch"):
        problems.append(f"no JSONPatch (status: {resp.get('status')})")
    else:
        try:
            patch_bytes = base64.b64decode(resp["patch"], validate=True)
            ops = json.loads(patch_bytes)
            summary["patch_bytes"] = len(patch_bytes)
            summary["patch_ops"] = len(ops)
            summary["ops"] = sorted({o["op"] for o in ops})
            pod = _apply_patch(review["request"]["object"], ops)
            spec = pod.get("spec", {})
            names = [c.get("name") for c in spec.get("initContainers", [])] + [c.get("name") for c in spec.get("containers", [])]
            summary["containers_after"] = names
            if "mcp-recorder" not in names:
                problems.append(f"the patch injects no mcp-recorder container: {names}")
            if ANNOTATION_STATUS not in pod.get("metadata", {}).get("annotations", {}):
                problems.append(f"the patched pod has no {ANNOTATION_STATUS} annotation")
            if expected:
                import yaml

                with open(expected) as f:
                    want = yaml.safe_load(f)
                # The casebook was written with the default image and collector; the
                # benchmark runs with --image/--collector-url of its own.
                status = json.loads(want["metadata"]["annotations"][ANNOTATION_STATUS])
                if image:
                    want = _replace_strings(want, status["image"], image)
                if collector_url:
                    want = _replace_strings(want, "https://mcp-recorder-collector.mcp-recorder.svc:8443", collector_url)
                summary["matches_casebook_expected"] = pod == want
        except Exception as e:  # noqa: BLE001 — any failure means "not a real patch"
            problems.append(f"the patch does not decode or apply: {e!r}")
    summary["warnings"] = resp.get("warnings", [])
    summary["ok"] = not problems
    summary["problems"] = problems
    print(json.dumps(summary))
    sys.exit(0 if not problems else 1)


def cmd_nginx_set(response_json):
    with open(response_json, "rb") as f:
        text = f.read().decode()
    if "$" in text:
        sys.exit("the response contains '$', which nginx would read as a variable")
    chunks = [text[i : i + 3000] for i in range(0, len(text), 3000)]
    out = []
    for i, c in enumerate(chunks):
        c = c.replace("\\", "\\\\").replace("'", "\\'")
        out.append(f"set $r{i} '{c}';")
    out.append("return 200 \"" + "".join(f"${{r{i}}}" for i in range(len(chunks))) + "\";")
    print("\n            ".join(out))


# ---------------------------------------------------------------- hey


def _read_hey_csv(csv_path):
    """hey -o csv: response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset
    (seconds, 4 decimals: 0.1 ms resolution; offset = start of the request since the run began)."""
    lat, offsets, statuses, dials = [], [], {}, 0
    with open(csv_path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) < 8 or not re.match(r"^[0-9.]+$", parts[0]):
                continue
            lat.append(float(parts[0]) * 1000)
            dials += float(parts[1]) > 0
            statuses[parts[6]] = statuses.get(parts[6], 0) + 1
            offsets.append(float(parts[7]))
    return lat, offsets, statuses, dials


def cmd_hey(csv_paths, cpu_ticks=None, hz=None, client_cpu_ms=None, busy_ticks=None):
    """One run of hey, or several hey processes run side by side (their rates add up)."""
    lat, statuses, dials, rate, bursts_total = [], {}, 0, 0.0, 0
    for path in csv_paths:
        l, offsets, st, d = _read_hey_csv(path)
        if not l:
            continue
        lat += l
        dials += d
        for code, n in st.items():
            statuses[code] = statuses.get(code, 0) + n
        # Requests started within 1 ms of one another count as one burst (hey's workers
        # share one tick schedule, so they fire together).
        starts = sorted(offsets)
        bursts = 1 + sum(1 for a, b in zip(starts, starts[1:]) if b - a > 0.001)
        bursts_total += bursts
        span = starts[-1] - starts[0]
        # bursts − 1 intervals between the first and the last start: the run is `bursts` intervals long.
        if span > 0 and bursts > 1:
            rate += len(l) / (span * bursts / (bursts - 1))
    if not lat:
        print(json.dumps({"requests": 0}))
        return
    s = sorted(lat)
    result = {
        "requests": len(lat),
        "rate": round(rate, 1),
        "statuses": statuses,
        "non_200": sum(n for code, n in statuses.items() if code != "200"),
        "p50_ms": round(percentile(s, 50), 4),
        "p90_ms": round(percentile(s, 90), 4),
        "p99_ms": round(percentile(s, 99), 4),
        "p999_ms": round(percentile(s, 99.9), 4),
        "max_ms": s[-1],
        "mean_ms": round(sum(s) / len(s), 3),
        "requests_per_burst": round(len(lat) / bursts_total, 2),
        "dials": dials,
    }
    if cpu_ticks is not None and hz:
        result["server_cpu_s"] = round(cpu_ticks / hz, 2)
        result["server_cpu_us_per_req"] = round(cpu_ticks / hz * 1e6 / len(lat), 1)
    if client_cpu_ms is not None:
        result["client_cpu_us_per_req"] = round(client_cpu_ms * 1000 / len(lat), 1)
    if busy_ticks is not None and cpu_ticks is not None and client_cpu_ms is not None and hz:
        # CPU the rest of the machine used meanwhile, as a share of all CPUs: noise.
        seconds = len(lat) / rate if rate else None
        other = busy_ticks / hz - cpu_ticks / hz - client_cpu_ms / 1000
        if seconds:
            result["other_cpu_share"] = round(max(0.0, other) / (seconds * os.cpu_count()), 3)
    print(json.dumps(result))


# ---------------------------------------------------------------- webhook histogram


def _buckets(path):
    out, total, count = {}, 0.0, 0
    with open(path) as f:
        for line in f:
            m = re.match(r'^mcp_recorder_webhook_admission_duration_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
            if m:
                out[m.group(1)] = float(m.group(2))
            elif line.startswith("mcp_recorder_webhook_admission_duration_seconds_sum"):
                total = float(line.split()[-1])
            elif line.startswith("mcp_recorder_webhook_admission_duration_seconds_count"):
                count = int(float(line.split()[-1]))
    return out, total, count


def cmd_histo(before, after):
    b, bs, bc = _buckets(before)
    a, as_, ac = _buckets(after)
    n = ac - bc
    cumulative = {le: a[le] - b.get(le, 0) for le in a}
    print(json.dumps({
        "count": n,
        "mean_ms": round((as_ - bs) / n * 1000, 3) if n else None,
        "share_le": {le: round(v / n, 4) if n else None for le, v in cumulative.items()},
    }))


# ---------------------------------------------------------------- report


def fmt(v, digits=1):
    return "—" if v is None else f"{v:.{digits}f}"


def cmd_report(results_path):
    results = {}
    with open(results_path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                results[r["key"]] = r["value"]
    env = os.environ.get
    rounds = int(env("BENCH_ROUNDS", "1"))
    rate, target = env("BENCH_RATE", "200"), float(env("BENCH_TARGET_P99_MS", "5"))
    check = results.get("check", {})
    out = []
    w = out.append
    w("### Webhook admission latency")
    w("")
    w(f"- Command: `{env('BENCH_COMMAND', 'scripts/bench-webhook.sh')}` at commit {env('BENCH_COMMIT', '?')}")
    w(f"- Machine: {env('BENCH_NPROC', '?')} vCPUs, {env('BENCH_CPU', '?')}, {env('BENCH_KERNEL', '?')}; "
      f"load average {env('BENCH_LOAD_BEFORE', '?')} before, {env('BENCH_LOAD_AFTER', '?')} after")
    w(f"- {env('BENCH_SWIFT', '?')} (release build); {env('BENCH_NGINX', '?')}; hey {env('BENCH_HEY', '?')}; {env('BENCH_OPENSSL', '?')}")
    w(f"- TLS: {env('BENCH_TLS', '?')}")
    w(f"- Review: {env('BENCH_CASE', '?')} as a Pod CREATE AdmissionReview, {results.get('review', {}).get('bytes', '?')} bytes; "
      f"answer {check.get('response_bytes', '?')} bytes, a JSONPatch of {check.get('patch_ops', '?')} operations "
      f"({check.get('patch_bytes', '?')} bytes before base64) injecting {', '.join(n for n in check.get('containers_after', []) if n.startswith('mcp-recorder'))}; "
      f"patched pod equal to the casebook's expected.yaml: {check.get('matches_casebook_expected', '?')}")
    w(f"- Load: {env('BENCH_LOAD_SHAPE', '?')}")
    w("")
    w("| Round | Connections | Target | Requests | Achieved req/s | non-200 | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | server CPU per request | hey CPU per request | other CPU on the machine |")
    w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    added = []
    for mode, label in (("keepalive", "keep-alive, bursts"), ("spread", "keep-alive, evenly spaced"), ("newconn", "new per request")):
        for r in range(1, rounds + 1):
            rows = {t: results.get(f"{mode}.{t}.{r}") for t in ("webhook", "nginx")}
            for t, v in rows.items():
                if not v:
                    continue
                name = "mcp-recorder webhook" if t == "webhook" else "nginx `return 200` (reference)"
                cpu = f"{v['server_cpu_us_per_req']:.0f} µs" if "server_cpu_us_per_req" in v else "—"
                client = f"{v['client_cpu_us_per_req']:.0f} µs" if "client_cpu_us_per_req" in v else "—"
                other = f"{v['other_cpu_share'] * 100:.0f} %" if "other_cpu_share" in v else "—"
                w(f"| {r} | {label} | {name} | {v['requests']:,} | {fmt(v['rate'])} | {v['non_200']} | {fmt(v['p50_ms'])} | "
                  f"{fmt(v['p90_ms'])} | {fmt(v['p99_ms'])} | {fmt(v['p999_ms'])} | {fmt(v['max_ms'])} | {cpu} | {client} | {other} |")
            if rows["webhook"] and rows["nginx"]:
                added.append((mode, label, r, rows["webhook"], rows["nginx"]))
    w("")
    w("| Round | Connections | Added p50 ms (webhook − nginx) | Added p99 ms | p50 ratio | p99 ratio |")
    w("|---|---|---:|---:|---:|---:|")
    for mode, label, r, a, b in added:
        w(f"| {r} | {label} | {a['p50_ms'] - b['p50_ms']:.1f} | {a['p99_ms'] - b['p99_ms']:.1f} | "
          f"{a['p50_ms'] / b['p50_ms']:.2f}× | {a['p99_ms'] / b['p99_ms']:.2f}× |")
    h = results.get("histo.keepalive.1")
    if h and h.get("count"):
        share = h["share_le"]
        w("")
        w(f"Inside the handler (the webhook's own `mcp_recorder_webhook_admission_duration_seconds`, round 1 keep-alive, "
          f"{h['count']:,} requests): mean {h['mean_ms']:.3f} ms; "
          + ", ".join(f"{share[le] * 100:.1f} % ≤ {float(le) * 1000:g} ms" for le in ("0.00025", "0.0005", "0.001", "0.002", "0.005") if le in share)
          + ".")
    # A round counts as quiet when the rest of the machine used at most 10 % of its CPUs
    # during the webhook's measurement (see "other CPU"): the tail on 2 vCPUs shared with
    # other work says more about that work than about the webhook.
    w("")
    for mode, label in (("keepalive", "keep-alive, bursts (hey -c 4 -q 50)"), ("spread", "keep-alive, evenly spaced")):
        runs = [v for k, v in sorted(results.items()) if k.startswith(f"{mode}.webhook.")]
        if not runs:
            continue
        quiet = [v["p99_ms"] for v in runs if v.get("other_cpu_share", 0) <= 0.10]
        worst = max(v["p99_ms"] for v in runs)
        if quiet:
            verdict = "PASS" if max(quiet) <= target else "FAIL"
            w(f"Verdict, p99 ≤ {target:g} ms at {rate} req/s, {label}: **{verdict}** on the {len(quiet)} quiet round(s) "
              f"(p99 {min(quiet):.1f}–{max(quiet):.1f} ms); worst of all {len(runs)} rounds {worst:.1f} ms.")
        else:
            verdict = "PASS" if worst <= target else "FAIL"
            w(f"Verdict, p99 ≤ {target:g} ms at {rate} req/s, {label}: **{verdict}** (worst round {worst:.1f} ms; "
              f"no quiet round: other work used more than 10 % of the CPUs in every one).")
        w("")
    print("\n".join(out))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "review":
        cmd_review(*args)
    elif cmd == "check":
        opts = {}
        pos = []
        it = iter(args)
        for a in it:
            if a.startswith("--"):
                opts[a[2:].replace("-", "_")] = next(it)
            else:
                pos.append(a)
        cmd_check(*pos, **opts)
    elif cmd == "nginx-set":
        cmd_nginx_set(*args)
    elif cmd == "hey":
        ticks = hz = None
        if "--cpu-ticks" in args:
            i = args.index("--cpu-ticks")
            ticks, hz = int(args[i + 1]), int(args[i + 2])
            args = args[:i] + args[i + 3 :]
        client = None
        if "--client-cpu-ms" in args:
            i = args.index("--client-cpu-ms")
            client = int(args[i + 1])
            args = args[:i] + args[i + 2 :]
        busy = None
        if "--machine-busy-ticks" in args:
            i = args.index("--machine-busy-ticks")
            busy = int(args[i + 1])
            args = args[:i] + args[i + 2 :]
        cmd_hey(args, ticks, hz, client, busy)
    elif cmd == "histo":
        cmd_histo(*args)
    elif cmd == "report":
        cmd_report(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
