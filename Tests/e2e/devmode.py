"""`mcp-recorder dev` for the end-to-end tests: the recording proxy in front of one MCP server,
a shipper and an embedded collector, with its read API (the `dev` fixture in conftest.py)."""
import json
import pathlib
import time

from collector import CollectorAPI, wait_for
from conftest import ManagedProcess, track

SDK_CLIENT_INFO = "mcp/0.1.0"  # both SDK lines' default clientInfo


class Dev:
    """A running `mcp-recorder dev` in front of one MCP server, with the collector's read API."""

    def __init__(self, recorder: str, upstream: str, data: pathlib.Path, ports: tuple[int, int], extra_args=()):
        self.data = data
        self.process = track(ManagedProcess(
            "mcp-recorder dev",
            [recorder, "dev", "--upstream", upstream, "--listen", f"127.0.0.1:{ports[0]}",
             "--collector-listen", f"127.0.0.1:{ports[1]}", "--data", str(data), *extra_args],
            data.parent / f"{data.name}.log"))
        info_file = data / "dev.json"

        def info():
            if not self.process.alive():
                raise AssertionError(f"mcp-recorder dev exited:\n{self.process.log_tail()}")
            return json.loads(info_file.read_text()) if info_file.exists() else None

        self.info = wait_for(info, timeout=60, what="dev.json")
        self.api = CollectorAPI(self.info["collector_url"], pathlib.Path(self.info["ca_file"]))

    @property
    def mcp_url(self) -> str:
        return self.info["mcp_url"]

    def sessions(self, **filters) -> list[dict]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return self.api.get("/v1/sessions" + (f"?{query}" if query else ""), token=self.info["read_token"])["sessions"]

    def session(self, session_id: str) -> dict:
        return self.api.get(f"/v1/sessions/{session_id}", token=self.info["read_token"])

    def settled_sessions(self, expected_calls: int, **filters) -> list[dict]:
        """The sessions once `expected_calls` calls are indexed and nothing more is on its way."""
        wait_for(lambda: sum(s["calls"] for s in self.sessions(**filters)) >= expected_calls, timeout=90,
                 what=f"{expected_calls} calls indexed")
        spool = pathlib.Path(self.info["spool"])

        def quiet():
            # The open segment is sealed after --segment-max-age (2 s) and shipped at once.
            return not list(spool.glob("*.seg.gz")) and not any(p.stat().st_size > 0 for p in spool.glob("*.part"))
        time.sleep(2.5)
        wait_for(quiet, timeout=30, what="the spool to be shipped")
        return self.sessions(**filters)
