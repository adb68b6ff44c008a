"""Collector replicas behind one PostgreSQL index (a real PostgreSQL 15, TLS verify-full) and one
bucket (Ceph's RADOS Gateway): two sidecars ship through a round-robin TCP balancer to two
replicas, one replica is killed with kill -9 while they ship, and every segment is still stored
exactly once with intact chains, readable through either replica; the same segments uploaded to
both replicas at once are stored once and acknowledged by both."""
import concurrent.futures
import socket
import threading
import time

from collector import INGEST_TOKEN, APIError, CollectorAPI, make_tls, wait_for
from s3_requests import list_keys
from test_collector_s3 import s3_args
from test_shipping_to_collector import assert_stream_intact, ship_args, shipped

BUCKET = "e2e-replicas"


class RoundRobin:
    """A TCP balancer: each new connection goes to the next backend that accepts it (TLS passes through).

    ``slow`` backends get what clients send at 4 KiB per 10 ms, so an upload to them is in flight
    long enough to be cut; ``in_flight(port)`` tells whether bytes are going up to that backend and
    no answer has come back yet (past a handshake: more than 16 KiB)."""

    def __init__(self, ports: list[int], slow: tuple[int, ...] = ()):
        self.ports = ports
        self.slow = set(slow)
        self.next = 0
        self.lock = threading.Lock()
        self.uploading: dict[int, int] = {p: 0 for p in ports}  # connections with bytes sent and no answer since
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.served: dict[int, int] = {p: 0 for p in ports}
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _upstream(self) -> tuple[socket.socket, int] | None:
        for _ in range(len(self.ports)):
            with self.lock:
                port = self.ports[self.next % len(self.ports)]
                self.next += 1
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
                with self.lock:
                    self.served[port] += 1
                return upstream, port
            except OSError:
                continue
        return None

    def in_flight(self, port: int) -> bool:
        with self.lock:
            return self.uploading[port] > 0

    def _serve(self, client: socket.socket) -> None:
        found = self._upstream()
        if found is None:
            client.close()
            return
        upstream, port = found
        sending = [False]
        pending = [0]  # bytes sent up since the last answer came down

        def mark(state: bool, sent: int = 0) -> None:
            with self.lock:
                pending[0] = pending[0] + sent if state else 0
                # Past a TLS handshake and a small request: a segment's body is going up.
                state = pending[0] > 16 * 1024
                if state != sending[0]:
                    self.uploading[port] += 1 if state else -1
                    sending[0] = state

        def close_both() -> None:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def up() -> None:
            try:
                while data := client.recv(4096 if port in self.slow else 65536):
                    mark(True, len(data))
                    upstream.sendall(data)
                    if port in self.slow:
                        time.sleep(0.01)
            except OSError:
                pass
            finally:
                close_both()

        threading.Thread(target=up, daemon=True).start()
        try:
            while data := upstream.recv(65536):
                mark(False)
                client.sendall(data)
        except OSError:
            pass
        finally:
            mark(False)
            close_both()
            client.close()
            upstream.close()

    def close(self) -> None:
        self.sock.close()


def replica_args(radosgw, postgres, tmp_path, database: str) -> list[str]:
    url = postgres.create_database(database) + f"?sslmode=verify-full&sslrootcert={postgres.workdir}/ca.pem"
    return ["--index", "postgres", "--index-url", url, *s3_args(radosgw, tmp_path, bucket=BUCKET)]


def test_two_replicas_one_killed_while_sidecars_ship_store_every_segment_once(
        radosgw, postgres, collector, mcp_server, sidecar, run_client, tmp_path):
    tls = make_tls(tmp_path / "tls")  # one certificate for 127.0.0.1, served by both replicas
    args = replica_args(radosgw, postgres, tmp_path, "replicas")
    replicas = [collector(tls=tls, extra_args=args), collector(tls=tls, extra_args=args)]
    balancer = RoundRobin([c.port for c in replicas], slow=(replicas[0].port,))
    url = f"https://127.0.0.1:{balancer.port}"
    server = mcp_server("streamable")
    cars, spools = [], []
    for name in ("e2e.replica-a", "e2e.replica-b"):
        spool = tmp_path / name
        spools.append(spool)
        cars.append(sidecar(server.port, spool, ship_args(url, tls["ca"], replicas[0].ingest_token_file), stream=name))
    # One client run through each sidecar; replica 0 dies with kill -9 in the middle of an upload.
    runs = [run_client("v1-streamable", car.url(server.path)) for car in cars]
    wait_for(lambda: balancer.in_flight(replicas[0].port), timeout=60, interval=0.005, what="an upload in flight to replica 0")
    replicas[0].kill()
    assert balancer.served[replicas[0].port] > 0, "the killed replica had taken uploads"
    for r in runs:
        assert r.result()["errors"] == []
    for car in cars:
        assert car.stop() == 0
    for spool in spools:
        wait_for(lambda: shipped(spool), timeout=120, what="every segment shipped through the surviving replica")

    api = replicas[1].api
    total = 0
    for stream in ("e2e.replica-a", "e2e.replica-b"):
        stored = assert_stream_intact(api, stream)
        total += len(stored)
    assert len(list_keys(radosgw, BUCKET, "cluster-a/e2e.replica-")) == total, "one object per stored segment"
    assert api.metric("mcp_recorder_collector_ingest_total", result="conflict") == 0
    # The killed replica comes back and serves the same recordings.
    replicas[0].start()
    assert sorted(s["id"] for s in replicas[0].api.sessions()) == sorted(s["id"] for s in api.sessions())
    assert balancer.served[replicas[1].port] > 0
    balancer.close()


def _stored(api: CollectorAPI, streams: tuple[str, ...]) -> int:
    """Segments stored so far (any replica answers for all: they share the index)."""
    total = 0
    for stream in streams:
        try:
            total += len(api.segments(stream))
        except APIError:
            pass
    return total


def test_the_same_segments_uploaded_to_two_replicas_at_once_are_stored_once(
        radosgw, postgres, collector, mcp_server, sidecar, run_client, tmp_path):
    tls = make_tls(tmp_path / "tls")
    args = replica_args(radosgw, postgres, tmp_path, "same_segment")
    replicas = [collector(tls=tls, extra_args=args), collector(tls=tls, extra_args=args)]
    server = mcp_server("streamable")
    spool = tmp_path / "unshipped"
    car = sidecar(server.port, spool, ["--segment-max-age", "1s"], stream="e2e.same")  # no collector: segments stay
    assert run_client("v1-streamable", car.url(server.path)).result()["errors"] == []
    assert car.stop() == 0
    segments = sorted(spool.glob("*.seg.gz"))
    assert segments

    def upload(replica, n: int, body: bytes) -> str:
        return replica.api.request("PUT", f"/v1/streams/e2e.same/segments/{n}", token=INGEST_TOKEN, body=body,
                                   headers={"Content-Type": "application/gzip"})["result"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for n, path in enumerate(segments, start=1):
            body = path.read_bytes()
            results = list(pool.map(lambda replica: upload(replica, n, body), replicas + replicas))
            assert sorted(results) == ["already_stored"] * 3 + ["stored"], (n, results)
    stored = assert_stream_intact(replicas[0].api, "e2e.same", expected=len(segments))
    assert [s["segment"] for s in replicas[1].api.segments("e2e.same")] == [s["segment"] for s in stored]
    assert len(list_keys(radosgw, BUCKET, "cluster-a/e2e.same/")) == len(segments)


def test_an_embedded_collector_migrated_to_postgres_and_s3_reads_byte_for_byte_the_same(
        radosgw, postgres, collector, mcp_server, sidecar, run_client, recorder, tmp_path):
    import subprocess
    embedded = collector()
    server = mcp_server("streamable")
    spool = tmp_path / "spool"
    car = sidecar(server.port, spool, ship_args(embedded.url, embedded.ca, embedded.ingest_token_file), stream="e2e.migrate")
    for _ in range(2):
        assert run_client("v1-streamable", car.url(server.path)).result()["errors"] == []
    assert car.stop() == 0
    wait_for(lambda: shipped(spool), what="the spool to be empty")
    before = embedded.api.sessions()
    assert len(before) >= 2
    embedded.api.request("PUT", f"/v1/sessions/{before[0]['id']}/legal-hold", body=b"")
    exports = {s["id"]: embedded.api.request("GET", f"/v1/sessions/{s['id']}/export", raw=True) for s in before}
    segments = embedded.api.segments("e2e.migrate")
    assert embedded.stop() == 0

    url = postgres.create_database("migrated") + f"?sslmode=verify-full&sslrootcert={postgres.workdir}/ca.pem"
    access, secret = tmp_path / "ak", tmp_path / "sk"
    access.write_text(radosgw.access_key)
    secret.write_text(radosgw.secret_key)
    migrate = [recorder, "collector", "migrate", "--from", f"sqlite:{embedded.data}/index.sqlite,fs:{embedded.data}/segments",
               "--to", f"postgres:{url},s3:e2e-migrated", "--s3-endpoint", radosgw.endpoint, "--s3-region", radosgw.region,
               "--s3-access-key-file", str(access), "--s3-secret-key-file", str(secret), "--s3-create-bucket"]
    first = subprocess.run(migrate, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"1 streams: {len(segments)} segments copied, 0 already there, 0 failed; logs copied" in first.stdout, first.stdout
    again = subprocess.run(migrate, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and f"0 segments copied, {len(segments)} already there, 0 failed; logs already copied" in again.stdout, again.stdout

    shared = collector(tls=make_tls(tmp_path / "tls"), extra_args=[
        "--index", "postgres", "--index-url", url, "--storage", "s3", "--s3-endpoint", radosgw.endpoint, "--s3-region", radosgw.region,
        "--s3-bucket", "e2e-migrated", "--s3-access-key-file", str(access), "--s3-secret-key-file", str(secret)])
    assert shared.api.sessions() == embedded_sessions_after_hold(before)
    for session_id, exported in exports.items():
        assert shared.api.request("GET", f"/v1/sessions/{session_id}/export", raw=True) == exported, session_id
    assert shared.api.get("/v1/streams/e2e.migrate/verify")["ok"]
    assert [s["sha256"] for s in shared.api.segments("e2e.migrate")] == [s["sha256"] for s in segments]
    assert len(list_keys(radosgw, "e2e-migrated")) == len(segments)
    # What the embedded collector logged came along: its reads above are in the shared access log.
    assert any(e["path"].endswith("/export") for e in shared.api.get("/v1/access-log?limit=1000")["entries"])


def embedded_sessions_after_hold(before: list[dict]) -> list[dict]:
    """The session list as the embedded collector showed it, with the legal hold placed after it was read."""
    return [dict(s, legal_hold=True) if i == 0 else s for i, s in enumerate(before)]
