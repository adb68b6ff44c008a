"""Tamper evidence, tried the way an attacker with write access to a recording would.

A real recording (the official MCP SDK client and server through the sidecar) is changed in every
way the issue lists, and each change must be found, with the problem named:

- on the spool, before it ships, with the sidecar still running: found by the collector — through the
  chain, the stream heads the sidecar told it, or the sidecar's signatures;
- on an exported session (`sessions evidence`): found offline by `segments verify --checkpoint
  --pubkey`, against the collector's signed Merkle log;
- on the collector itself (a stored file, the log in its index): found by `sessions verify --pubkey`
  against the signed log, and by consistency with a checkpoint pushed elsewhere.

Each case also records what a plain `segments verify` (chain only) says, so the table printed at
the end shows which detections need the heads, the signatures or the checkpoint.
"""
import gzip
import json
import pathlib
import shutil
import sqlite3
import subprocess

import pytest

from collector import INGEST_TOKEN, APIError, make_tls, wait_for

STREAM = "e2e.tamper"
FINDINGS: list[tuple[str, str, str]] = []


# --------------------------------------------------------------------------- segment surgery

def lines_of(path: pathlib.Path) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def write_segment(path: pathlib.Path, lines: list[dict]) -> str:
    """One gzip member per line (any grouping is valid); returns the file's SHA-256."""
    import hashlib
    data = b"".join(gzip.compress((json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n").encode(), mtime=0)
                    for line in lines)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def rewrite_from(files: list[pathlib.Path], start: int, change) -> None:
    """Applies `change(lines)` to files[start], then re-chains every later file with recomputed
    hashes, as someone without the sidecar's key would: the trailer signatures are dropped."""
    import hashlib
    previous = None
    for index, path in enumerate(files):
        if index < start:
            continue
        lines = lines_of(path)
        if index == start:
            change(lines)
        elif previous is not None:
            lines[0]["prev_sha256"] = previous
        lines[-1].pop("sig", None)
        previous = write_segment(path, lines)


def alter_a_record(lines: list[dict]) -> None:
    """Changes one recorded value of a data record (its time, by a microsecond)."""
    record = lines[len(lines) // 2]
    ts = record["ts"]
    record["ts"] = ts[:-2] + ("1" if ts[-2] != "1" else "2") + "Z"


def finished(spool: pathlib.Path) -> list[pathlib.Path]:
    return sorted(spool.glob("*.seg.gz"))


def verify(recorder, directory: pathlib.Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([recorder, "segments", "verify", str(directory), *extra], capture_output=True, text=True, timeout=120)


def note(case: str, plain: str, found: str) -> None:
    FINDINGS.append((case, plain, found))


@pytest.fixture(scope="module", autouse=True)
def print_table():
    yield
    if FINDINGS:
        width = max(len(c) for c, _, _ in FINDINGS)
        print("\n\nchange".ljust(width + 3) + "  plain segments verify   found by")
        for case, plain, found in FINDINGS:
            print(f"{case.ljust(width)}  {plain.ljust(22)}  {found}")


# --------------------------------------------------------------------------- on the spool, before it ships

SPOOL_CASES = {
    # case: (mutation of the finished spool files, integrity event kinds any of which names it, layer)
    "delete the last segment": (lambda fs: fs[-1].unlink(), {"tail_missing"}, "stream heads"),
    "delete the last three segments": (lambda fs: [f.unlink() for f in fs[-3:]], {"tail_missing"}, "stream heads"),
    "alter the last segment, keep its signature": (
        lambda fs: rewrite_from_keeping_sig(fs, len(fs) - 1), {"bad_signature"}, "signatures"),
    "rewrite the chain tail with recomputed hashes": (lambda fs: rewrite_from(fs, len(fs) // 2, alter_a_record), {"unsigned"}, "signatures"),
    "insert a segment after the last": (lambda fs: insert_after_last(fs), {"unsigned"}, "signatures"),
    "delete the first segment": (lambda fs: fs[0].unlink(), {"missing"}, "chain (segment format)"),
}


def rewrite_from_keeping_sig(files: list[pathlib.Path], index: int) -> None:
    lines = lines_of(files[index])
    alter_a_record(lines)
    write_segment(files[index], lines)


def insert_after_last(files: list[pathlib.Path]) -> None:
    import hashlib
    last = files[-1]
    lines = lines_of(last)
    header, trailer = dict(lines[0]), dict(lines[-1])
    number = header["segment"] + 1
    next_seq = (trailer.get("last_seq") or header["first_seq"] - 1) + 1
    header.update(segment=number, first_seq=next_seq, prev_sha256=hashlib.sha256(last.read_bytes()).hexdigest())
    record = {"seq": next_seq, "ts": header["ts"], "kind": "note", "level": "info", "code": "inserted", "message": "not recorded"}
    trailer.update(segment=number, records=1, first_seq=next_seq, last_seq=next_seq)
    trailer.pop("sig", None)
    write_segment(last.with_name(last.name.replace(f"{number - 1:012d}", f"{number:012d}")), [header, record, trailer])


@pytest.mark.parametrize("case", list(SPOOL_CASES))
def test_a_spool_changed_before_it_ships_is_caught_by_the_collector(
        case, mcp_server, sidecar, collector, run_client, free_port, recorder, tmp_path):
    mutate, kinds, layer = SPOOL_CASES[case]
    tls = make_tls(tmp_path / "tls")
    port = free_port()
    token_file = tmp_path / "ingest.token"
    token_file.write_text(INGEST_TOKEN)
    server = mcp_server("streamable")
    spool = tmp_path / "spool"
    # The collector is away while the attacker works; the sidecar keeps its head in memory.
    car = sidecar(server.port, spool, [
        "--collector", f"https://127.0.0.1:{port}", "--collector-ca", str(tls["ca"]), "--token-file", str(token_file),
        "--segment-max-bytes", "16KiB", "--segment-max-age", "1s", "--ship-backoff-initial", "100ms", "--ship-backoff-max", "500ms",
        "--heartbeat-interval", "1s"], stream=STREAM)
    assert run_client("v1-streamable", car.url(server.path)).result()["errors"] == []
    wait_for(lambda: not list(spool.glob("*.part")), what="every segment sealed")
    files = finished(spool)
    assert len(files) >= 6, [f.name for f in files]
    plain_before = verify(recorder, spool)
    assert plain_before.returncode == 0, plain_before.stdout

    mutate(files)
    plain = verify(recorder, spool)
    plain_says = "intact" if plain.returncode == 0 else "detects it"

    c = collector(tls=tls, port=port, extra_args=["--tail-grace", "2s"])
    api = c.api

    def named():
        try:
            events = api.get(f"/v1/streams/{STREAM}/verify")["integrity_events"]
        except APIError:  # nothing stored yet
            return []
        return [e for e in events if e["kind"] in kinds]

    found = wait_for(named, timeout=60, what=f"an integrity event of kind {kinds}")
    verdict = api.get(f"/v1/streams/{STREAM}/verify")
    assert not verdict["ok"] or kinds & {"unsigned", "bad_signature"}, verdict  # refused copies leave the stored ones intact
    assert found[0]["message"], found
    note(f"spool: {case}", plain_says, f"collector, {layer}: {found[0]['kind']}")
    assert car.stop() == 0


# --------------------------------------------------------------------------- exported, and on the collector

def record_and_export(mcp_server, sidecar, collector, run_client, recorder, tmp_path):
    """A real recording shipped to a collector that pushes checkpoints to a file; the session exported
    with its evidence. Returns (collector, session id, evidence dir, trusted key file, pushed file)."""
    pushed = tmp_path / "witness" / "checkpoints.jsonl"
    pushed.parent.mkdir()
    c = collector(extra_args=["--checkpoint-interval", "1s", "--checkpoint-push", f"file:{pushed}"])
    server = mcp_server("streamable")
    spool = tmp_path / "spool"
    car = sidecar(server.port, spool, [
        "--collector", c.url, "--collector-ca", str(c.ca), "--token-file", str(c.ingest_token_file),
        "--segment-max-bytes", "16KiB", "--segment-max-age", "1s"], stream=STREAM)
    assert run_client("v1-streamable", car.url(server.path)).result()["errors"] == []
    assert car.stop() == 0
    wait_for(lambda: not list(spool.glob("*.seg.gz")), what="everything shipped")
    session = wait_for(lambda: c.api.sessions(), what="the session indexed")[0]["id"]
    stored = len(c.api.segments(STREAM))
    wait_for(lambda: c.api.request("POST", "/v1/checkpoints")["tree_size"] == stored, what="a checkpoint of every stored segment")
    wait_for(lambda: pushed.exists() and pushed.read_text().strip(), what="a checkpoint pushed to the witness file")
    key_file = tmp_path / "checkpoint-key.json"
    key_file.write_text(json.dumps(c.api.get("/v1/checkpoints/key")))  # in real use: from a channel you trust
    common = ["--collector", c.url, "--ca", str(c.ca), "--token-file", str(c.admin_token_file)]
    out = tmp_path / "evidence"
    exported = subprocess.run([recorder, "sessions", "evidence", session, "--out", str(out), *common],
                              capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    return c, session, out, key_file, pushed, common


OFFLINE_CASES = {
    "delete the first segment": (lambda fs: fs[0].unlink(), {"missing"}),
    "delete the last segment": (lambda fs: fs[-1].unlink(), {"missing"}),
    "delete the last three segments": (lambda fs: [f.unlink() for f in fs[-3:]], {"missing"}),
    "delete a middle segment": (lambda fs: fs[len(fs) // 2].unlink(), {"missing"}),
    "insert a segment": (lambda fs: insert_after_last(fs), {"not_in_evidence"}),
    "reorder two segments": (lambda fs: swap(fs[1], fs[2]), {"altered"}),
    "alter a segment": (lambda fs: rewrite_from(fs, len(fs) - 1, alter_a_record), {"altered"}),
    "truncate a segment": (lambda fs: fs[1].write_bytes(fs[1].read_bytes()[:-40]), {"altered"}),
    "rewrite the chain tail with recomputed hashes": (lambda fs: rewrite_from(fs, 1, alter_a_record), {"altered"}),
    "delete a record": (lambda fs: rewrite_from(fs, 1, lambda lines: lines.pop(len(lines) // 2)), {"altered"}),
    "insert a record": (lambda fs: rewrite_from(fs, 1, lambda lines: lines.insert(2, dict(lines[2]))), {"altered"}),
    "reorder two records": (lambda fs: rewrite_from(fs, 1, lambda lines: lines.insert(2, lines.pop(3))), {"altered"}),
}


def swap(a: pathlib.Path, b: pathlib.Path) -> None:
    data = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(data)


def test_an_exported_session_and_the_collector_itself_are_checked_against_the_signed_log(
        mcp_server, sidecar, collector, run_client, recorder, tmp_path):
    c, session, evidence_dir, key_file, pushed, common = record_and_export(mcp_server, sidecar, collector, run_client, recorder, tmp_path)
    evidence = evidence_dir / "evidence.json"
    files = sorted(evidence_dir.glob("*.seg.gz"))
    assert len(files) >= 6, [f.name for f in files]
    checked = ["--checkpoint", str(evidence), "--pubkey", str(key_file)]
    clean = verify(recorder, evidence_dir, *checked)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "proven in the collector's log" in clean.stdout

    # Another key than the collector's: the checkpoint proves nothing.
    other = tmp_path / "other.key"
    other.write_text("11" * 32)
    wrong = verify(recorder, evidence_dir, "--checkpoint", str(evidence), "--pubkey", str(other))
    assert wrong.returncode != 0

    for case, (mutate, kinds) in OFFLINE_CASES.items():
        copy = tmp_path / "copies" / case.replace(" ", "-")
        shutil.copytree(evidence_dir, copy)
        mutate(sorted(copy.glob("*.seg.gz")))
        plain = verify(recorder, copy)
        result = verify(recorder, copy, "--checkpoint", str(copy / "evidence.json"), "--pubkey", str(key_file))
        assert result.returncode == 1, f"{case}: not detected\n{result.stdout}"
        named = {k for k in kinds if f": {k}:" in result.stdout or result.stdout.startswith(f"{k}:")}
        assert named, f"{case}: expected {kinds} in\n{result.stdout}"
        note(f"export: {case}", "intact" if plain.returncode == 0 else "detects it", f"checkpoint: {sorted(named)[0]}")

    # On the collector: a stored file altered at rest.
    stored = next((c.data / "segments" / STREAM).glob("*.000000000002.seg.gz"))
    original = stored.read_bytes()
    stored.write_bytes(original[:-40] + bytes(40))
    at_rest = subprocess.run([recorder, "sessions", "verify", session, *common, "--pubkey", str(key_file)],
                             capture_output=True, text=True, timeout=120)
    assert at_rest.returncode == 1, at_rest.stdout
    assert "altered at rest" in at_rest.stdout and ": altered:" in at_rest.stdout, at_rest.stdout
    note("collector: alter a stored segment", "-", "collector verify (stored SHA-256) and the signed log: altered")
    stored.write_bytes(original)

    # On the collector: its log rewritten (a leaf replaced), then grown so a new checkpoint is signed.
    first_pushed = pushed.read_text().splitlines()[0]
    witness = tmp_path / "witness-first.json"
    witness.write_text(first_pushed)
    index = sqlite3.connect(c.data / "index.sqlite")
    index.execute("UPDATE merkle_leaves SET leaf_hash = ? WHERE idx = 0", ("00" * 32,))
    index.execute("DELETE FROM checkpoints")
    index.commit()
    index.close()
    c.api.request("POST", "/v1/checkpoints")
    rewritten = subprocess.run([recorder, "sessions", "verify", session, *common, "--pubkey", str(key_file),
                                "--previous-checkpoint", str(witness)], capture_output=True, text=True, timeout=120)
    assert rewritten.returncode == 1, rewritten.stdout
    assert "inconsistent" in rewritten.stdout or "not_in_log" in rewritten.stdout, rewritten.stdout
    note("collector: rewrite its Merkle log", "-", "consistency with a checkpoint pushed elsewhere: inconsistent")


def test_bad_evidence_inputs_are_refused_with_the_reason(recorder, tmp_path):
    """Usage errors (exit 2) that say what is wrong; nothing is checked against half an input."""
    spool = tmp_path / "spool"
    spool.mkdir()
    ts = "2026-12-06T10:00:00.000000Z"
    write_segment(spool / "s.000000000001.seg.gz", [
        {"kind": "header", "format": "mcp-recorder-segment", "version": 1, "stream": "s", "segment": 1, "first_seq": 1,
         "prev_sha256": None, "ts": ts, "writer": "test", "pod": {}},
        {"kind": "trailer", "stream": "s", "segment": 1, "records": 0, "first_seq": None, "last_seq": None, "reason": "shutdown", "ts": ts}])
    assert verify(recorder, spool).returncode == 0
    not_json = tmp_path / "evidence.json"
    not_json.write_text("not json")
    not_evidence = tmp_path / "other.json"
    not_evidence.write_text('{"format": "something else"}')
    bad_key = tmp_path / "key"
    bad_key.write_text("zz")
    good_key = tmp_path / "good.key"
    good_key.write_text("11" * 32)
    cases = [
        (["segments", "verify", str(spool), "--checkpoint", str(not_json)], "--checkpoint and --pubkey go together"),
        (["segments", "verify", str(spool), "--previous-checkpoint", str(not_json)], "--previous-checkpoint needs --checkpoint"),
        (["segments", "verify", str(spool), "--checkpoint", str(not_json), "--pubkey", str(good_key)], "not JSON"),
        (["segments", "verify", str(spool), "--checkpoint", str(not_evidence), "--pubkey", str(good_key)], "not an evidence file"),
        (["sessions", "verify", "0123456789abcdef0123456789abcdef", "--collector", "https://127.0.0.1:1", "--token-file", str(good_key),
          "--pubkey", str(bad_key)], "expected an Ed25519 public key"),
        (["collector", "--listen", "127.0.0.1:1", "--data", str(tmp_path / "c"), "--tls-self-signed", "--checkpoint-push", "ftp://witness"],
         "--checkpoint-push must be file:PATH, s3:PREFIX or an https:// URL"),
    ]
    for argv, says in cases:
        run = subprocess.run([recorder, *argv], capture_output=True, text=True, timeout=60)
        assert run.returncode == 2 and says in run.stderr, (argv, run.returncode, run.stderr)
