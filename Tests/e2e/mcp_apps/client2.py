"""E2E MCP client on the 2.x Python SDK (``mcp`` 2.x, ``httpx2``), through ``mcp.Client``.

    python client2.py --url URL --mode auto|legacy|streamable|sse [--negotiate auto|legacy] [--token JWT]

In the 2.x SDK, ``Client(mode=...)`` chooses the *protocol negotiation*, not the HTTP
transport:
    mode="auto"    sends ``server/discover`` (newest, 2026-era protocol) first; a server that
                   answers it is used statelessly at that version (no initialize, no session);
                   any JSON-RPC/HTTP-level rejection (a 1.x server answers 400 "Missing session
                   ID" or "method not found") falls back to the ``initialize`` handshake.
    mode="legacy"  the ``initialize`` handshake only (the 2025-era protocol), byte-identical
                   to pre-2026 behaviour.
The transport is chosen by this script's --mode:
    auto, streamable  Streamable HTTP (``streamable_http_client``) + Client(mode="auto")
    legacy            Streamable HTTP (``streamable_http_client``) + Client(mode="legacy")
    sse               legacy HTTP+SSE (``sse_client``) + Client(mode=--negotiate, default "legacy")

The SDK caps one SSE event at 1 MiB by default; big(5) returns 5 MiB in one event on SSE
transports, so the cap is lifted (``max_sse_event_size=None``; for ``sse_client``, which has
no parameter for it, by wrapping ``sse_within_origin``). The response cache is disabled so
every call reaches the wire.

Prints one JSON report (see report.py) on stdout, like client1.py.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from importlib.metadata import version as dist_version

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import httpx2  # noqa: E402
import mcp.client.sse as sse_module  # noqa: E402
from mcp.client import Client  # noqa: E402
from mcp.client.sse import sse_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

import report as rp  # noqa: E402

TIMEOUT = httpx2.Timeout(30.0, read=120.0)

_original_sse_within_origin = sse_module.sse_within_origin


@contextlib.asynccontextmanager
async def _sse_within_origin_unlimited(client, url, *, headers=None, max_event_size=None):
    async with _original_sse_within_origin(client, url, headers=headers, max_event_size=None) as source:
        yield source


sse_module.sse_within_origin = _sse_within_origin_unlimited


async def exercise(client: Client, report: rp.Report) -> None:
    report.data["protocol_version"] = client.protocol_version
    info = client.server_info
    report.data["server_name"] = info.name if info is not None else None
    await rp.exercise_tools(client, client.read_resource, report)


async def run(url: str, mode: str, negotiate: str, token: str | None, report: rp.Report) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with contextlib.AsyncExitStack() as stack:
        if mode in ("auto", "streamable", "legacy"):
            http = await stack.enter_async_context(
                httpx2.AsyncClient(headers=headers, timeout=TIMEOUT, event_hooks=report.event_hooks()))
            transport = streamable_http_client(url, http_client=http, max_sse_event_size=None)
            negotiation = "legacy" if mode == "legacy" else "auto"
        elif mode == "sse":
            def factory(headers=None, timeout=None, auth=None):
                return httpx2.AsyncClient(headers=headers, timeout=timeout or TIMEOUT, auth=auth,
                                          event_hooks=report.event_hooks())

            transport = sse_client(url, headers=headers, timeout=30, sse_read_timeout=120,
                                   httpx_client_factory=factory)
            negotiation = negotiate
        else:
            raise SystemExit(f"unknown mode {mode!r}")
        async with Client(transport, mode=negotiation, cache=None, read_timeout_seconds=120) as client:
            await exercise(client, report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=("auto", "streamable", "legacy", "sse"), required=True)
    parser.add_argument("--negotiate", choices=("auto", "legacy"), default="legacy",
                        help="Client(mode=...) for --mode sse (default: legacy)")
    parser.add_argument("--token")
    args = parser.parse_args()
    report = rp.Report(f"mcp {dist_version('mcp')}", args.mode)
    try:
        asyncio.run(run(args.url, args.mode, args.negotiate, args.token, report))
    except BaseException as exc:  # noqa: BLE001 - the report says what happened
        for inner in getattr(exc, "exceptions", None) or [exc]:
            report.error("session", inner)
    report.emit()


if __name__ == "__main__":
    main()
