"""E2E MCP client on the 1.x Python SDK (``mcp`` 1.x, ``httpx``).

    python client1.py --url URL --mode streamable|sse [--token JWT]

streamable: ``mcp.client.streamable_http.streamable_http_client`` (URL like http://h:p/mcp);
            leaving it terminates the session with DELETE.
sse:        ``mcp.client.sse.sse_client``, legacy HTTP+SSE (URL like http://h:p/sse).

Initializes, lists tools, calls echo, add, slow_progress (collecting progress
notifications), big(5), fail, reads note://e2e, ends the session, and prints one
JSON report (see report.py) on stdout. With --token, every HTTP request carries
``Authorization: Bearer <token>``. Exit status 0 even when a call failed: the
report's ``errors`` says what went wrong; 2 only when no report could be made.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import timedelta
from importlib.metadata import version as dist_version

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import httpx  # noqa: E402
from mcp import ClientSession  # noqa: E402
from mcp.client.sse import sse_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from pydantic import AnyUrl  # noqa: E402

import report as rp  # noqa: E402

TIMEOUT = httpx.Timeout(30.0, read=120.0)


async def exercise(session: ClientSession, report: rp.Report) -> None:
    init = await session.initialize()
    report.data["protocol_version"] = init.protocolVersion
    report.data["server_name"] = init.serverInfo.name
    await rp.exercise_tools(session, lambda uri: session.read_resource(AnyUrl(uri)), report)


async def run(url: str, mode: str, token: str | None, report: rp.Report) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    read_timeout = timedelta(seconds=120)
    if mode == "streamable":
        async with httpx.AsyncClient(headers=headers, timeout=TIMEOUT, event_hooks=report.event_hooks()) as http:
            async with streamable_http_client(url, http_client=http) as (read, write, get_session_id):
                async with ClientSession(read, write, read_timeout_seconds=read_timeout) as session:
                    await exercise(session, report)
                    report.data["session_id"] = get_session_id() or report.data["session_id"]
    elif mode == "sse":
        def factory(headers=None, timeout=None, auth=None):
            return httpx.AsyncClient(headers=headers, timeout=timeout or TIMEOUT, auth=auth,
                                     event_hooks=report.event_hooks())

        async with sse_client(url, headers=headers, timeout=30, sse_read_timeout=120,
                              httpx_client_factory=factory) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=read_timeout) as session:
                await exercise(session, report)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=("streamable", "sse"), required=True)
    parser.add_argument("--token")
    args = parser.parse_args()
    report = rp.Report(f"mcp {dist_version('mcp')}", args.mode)
    try:
        asyncio.run(run(args.url, args.mode, args.token, report))
    except BaseException as exc:  # noqa: BLE001 - the report says what happened
        for inner in getattr(exc, "exceptions", None) or [exc]:
            report.error("session", inner)
    report.emit()


if __name__ == "__main__":
    main()
