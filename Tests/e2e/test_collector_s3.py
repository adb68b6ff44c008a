"""The collector with segments in a real S3 store (Ceph's RADOS Gateway, scripts/s3/radosgw.py)
and its index in SQLite: a sidecar ships an MCP SDK client's session through it, the session reads
back and verifies, the bytes in the bucket are the stored segments under content keys, nothing
lands on the collector's disk but the index, and a restarted collector reads the same. Bad
storage and index options are refused with the reason."""
import hashlib
import json
import pathlib
import subprocess
import sys

import pytest

from collector import APIError, wait_for
from s3_requests import list_keys, s3
from test_shipping_to_collector import ship_args, shipped

sys.path.insert(0, str(pathlib.Path(__file__).parent / "mcp_apps"))
import report as rp  # noqa: E402

STREAM = "e2e.s3"
BUCKET = "e2e-collector-segments"
PREFIX = "cluster-a/"


def s3_args(g, tmp_path: pathlib.Path, bucket: str = BUCKET) -> list[str]:
    access, secret = tmp_path / "s3-access-key", tmp_path / "s3-secret-key"
    access.write_text(g.access_key + "\n")
    secret.write_text(g.secret_key + "\n")
    return ["--storage", "s3", "--s3-endpoint", g.endpoint, "--s3-region", g.region, "--s3-bucket", bucket, "--s3-prefix", PREFIX,
            "--s3-access-key-file", str(access), "--s3-secret-key-file", str(secret), "--s3-create-bucket"]


def test_a_session_shipped_to_a_collector_on_s3_reads_back_and_survives_a_restart(
        radosgw, mcp_server, sidecar, collector, run_client, tmp_path):
    c = collector(extra_args=s3_args(radosgw, tmp_path) + ["--checkpoint-push", "s3:checkpoints/", "--checkpoint-interval", "1s"])
    server = mcp_server("streamable")
    spool = tmp_path / "spool"
    car = sidecar(server.port, spool, ship_args(c.url, c.ca, c.ingest_token_file), stream=STREAM)
    report = run_client("v1-streamable", car.url(server.path)).result()
    assert report["errors"] == [], report["errors"]
    assert car.stop() == 0
    wait_for(lambda: shipped(spool), what="the spool to be empty")

    api = c.api
    sessions = wait_for(lambda: [s for s in api.sessions() if s["tool_calls"] >= len(rp.TOOLS_CALLED)],
                        what="the session indexed with all its tool calls")
    assert len(sessions) == 1, sessions
    session_id = sessions[0]["id"]
    calls = {call["tool"] for call in api.get(f"/v1/sessions/{session_id}")["calls"] if call["method"] == "tools/call"}
    assert calls == set(rp.TOOLS_CALLED)
    stored = api.segments(STREAM)
    assert [s["segment"] for s in stored] == list(range(1, len(stored) + 1))
    assert api.get(f"/v1/streams/{STREAM}/verify")["ok"]

    # In the bucket: one object per stored segment, under a key naming its content; on disk, only the index.
    keys = list_keys(radosgw, BUCKET, PREFIX)
    assert len(keys) == len(stored), keys
    for segment in stored:
        [key] = [k for k in keys if f".{segment['segment']:012d}." in k]
        assert key == f"{PREFIX}{STREAM}/{STREAM}.{segment['segment']:012d}.{segment['sha256']}.seg.gz"
        status, body = s3(radosgw, "GET", f"/{BUCKET}/{key}")
        assert status == 200 and hashlib.sha256(body).hexdigest() == segment["sha256"]
        assert api.request("GET", f"/v1/streams/{STREAM}/segments/{segment['segment']}", raw=True) == body
    assert not (c.data / "segments").exists() or not any((c.data / "segments").rglob("*.seg.gz"))
    exported = api.request("GET", f"/v1/sessions/{session_id}/export", raw=True)

    # A checkpoint of every stored segment, pushed into the bucket beside (not under) the segments' prefix.
    checkpoint = api.request("POST", "/v1/checkpoints")
    assert checkpoint["tree_size"] == len(stored)
    pushed = f"checkpoints/{len(stored):020d}.json"
    wait_for(lambda: pushed in list_keys(radosgw, BUCKET, "checkpoints/"), what="the checkpoint in the bucket")
    status, body = s3(radosgw, "GET", f"/{BUCKET}/{pushed}")
    assert status == 200 and json.loads(body) == checkpoint

    # A new collector process on the same index and bucket serves the same.
    assert c.stop() == 0
    c.start()
    api = c.api  # (a new self-signed CA)
    assert api.get(f"/v1/streams/{STREAM}/verify")["ok"]
    assert api.request("GET", f"/v1/sessions/{session_id}/export", raw=True) == exported
    assert list_keys(radosgw, BUCKET, PREFIX) == keys


def test_a_lost_object_is_reported_and_verification_fails(radosgw, collector, mcp_server, sidecar, run_client, tmp_path):
    c = collector(extra_args=s3_args(radosgw, tmp_path, bucket="e2e-collector-lost"))
    server = mcp_server("streamable")
    spool = tmp_path / "spool"
    car = sidecar(server.port, spool, ship_args(c.url, c.ca, c.ingest_token_file), stream=STREAM)
    assert run_client("v1-streamable", car.url(server.path)).result()["errors"] == []
    assert car.stop() == 0
    wait_for(lambda: shipped(spool), what="the spool to be empty")
    [first, *_] = list_keys(radosgw, "e2e-collector-lost", PREFIX)
    assert s3(radosgw, "DELETE", f"/e2e-collector-lost/{first}")[0] == 204
    verdict = c.api.get(f"/v1/streams/{STREAM}/verify")
    assert not verdict["ok"] and any(p["kind"] == "missing" for p in verdict["problems"]), verdict
    with pytest.raises(APIError) as refused:
        c.api.request("GET", f"/v1/streams/{STREAM}/segments/1", raw=True)
    assert refused.value.status == 500 and "missing" in str(refused.value.body)
    c.stop()
    c.start()  # reconciliation records the loss as an integrity event
    events = c.api.get("/v1/integrity-events")["events"]
    assert any(e["kind"] == "damaged" and e["segment"] == 1 for e in events), events


def test_bad_storage_options_are_refused_with_the_reason(recorder, tmp_path):
    # A checkpoint bucket target needs the segments' bucket, outside their prefix.
    token = tmp_path / "token"
    token.write_text("t\n")
    refused = subprocess.run([recorder, "collector", "--listen", "127.0.0.1:1", "--data", str(tmp_path / "cp"), "--tls-self-signed",
                              "--ingest-token-file", str(token), "--admin-token-file", str(token), "--checkpoint-push", "s3:checkpoints/"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "--checkpoint-push s3:PREFIX needs --storage s3" in refused.stderr, refused.stderr
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([recorder, "collector", "--data", str(tmp_path / "data"), "--tls-self-signed",
                               "--ingest-token-file", "/dev/null", "--admin-token-file", "/dev/null", *args],
                              capture_output=True, text=True, timeout=60)
    cases = {
        ("--storage", "tape"): "--storage must be files or s3",
        ("--storage", "s3"): "needs --s3-endpoint",
        ("--storage", "s3", "--s3-endpoint", "ftp://x"): "needs --s3-endpoint",
        ("--storage", "s3", "--s3-endpoint", "http://rgw:7480/path"): "without a path",
        ("--storage", "s3", "--s3-endpoint", "http://rgw:7480", "--s3-bucket", "Bad_Bucket"): "valid bucket name",
        ("--storage", "s3", "--s3-endpoint", "http://rgw:7480", "--s3-bucket", "ok-bucket"): "needs credentials",
        ("--storage", "s3", "--s3-endpoint", "http://rgw:7480", "--s3-bucket", "ok-bucket", "--s3-access-key-file", "/a"): "not both or half",
        ("--storage", "s3", "--s3-endpoint", "http://rgw:7480", "--s3-bucket", "ok-bucket", "--s3-web-identity-token-file", "/t"): "--s3-role-arn",
        ("--s3-bucket", "ok-bucket"): "need --storage s3",
        ("--index", "mysql"): "--index must be sqlite or postgres",
        ("--index", "postgres"): "needs --index-url",
        ("--index", "postgres", "--index-url", "mysql://u@h/d"): "must start with postgres://",
        ("--index", "postgres", "--index-url", "postgres://u@h/d?sslmode=prefer"): "sslmode prefer is not supported",
        ("--index-url", "postgres://u@h/d"): "need --index postgres",
    }
    for args, reason in cases.items():
        result = run(*args)
        assert result.returncode != 0 and reason in result.stderr, (args, result.stderr)


def test_an_unreachable_index_stops_the_collector_with_the_reason(recorder, free_port, tmp_path):
    port = free_port()  # nothing listens there
    (tmp_path / "t").write_text("token\n")
    result = subprocess.run([recorder, "collector", "--data", str(tmp_path / "data"), "--tls-self-signed", "--listen", f"127.0.0.1:{free_port()}",
                             "--ingest-token-file", str(tmp_path / "t"), "--admin-token-file", str(tmp_path / "t"),
                             "--index", "postgres", "--index-url", f"postgres://recorder@127.0.0.1:{port}/idx?sslmode=disable"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"cannot connect to the PostgreSQL index at 127.0.0.1:{port}/idx" in result.stderr and "refused" in result.stderr, result.stderr


def test_bad_migrate_options_are_refused_with_the_reason(recorder, tmp_path):
    cases = {
        ("--from", "postgres:postgres://u@h/d,s3:b", "--to", "sqlite:/x,fs:/y"): "--from must be sqlite:PATH,fs:DIR",
        ("--from", "sqlite:/x", "--to", "sqlite:/y,fs:/z"): "--from needs an index",
        ("--from", "sqlite:/x,fs:/y", "--to", "s3:bucket"): "--to needs an index",
        ("--from", "sqlite:/x,fs:/y", "--to", "mysql:u@h,s3:b"): "mysql is not sqlite, postgres, fs or s3",
        ("--from", "sqlite:/x,sqlite:/y,fs:/z", "--to", "sqlite:/y,fs:/z"): "two indexes",
        ("--from", f"sqlite:{tmp_path}/none.sqlite,fs:{tmp_path}", "--to", f"sqlite:{tmp_path}/b.sqlite,fs:{tmp_path}/b"): "no SQLite index at",
    }
    for args, reason in cases.items():
        result = subprocess.run([recorder, "collector", "migrate", *args], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and reason in result.stderr, (args, result.stderr)
