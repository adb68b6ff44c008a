"""Makes tool calls at once over one MCP session and reports how each ended (either SDK line).

    approval_client.py --url URL --calls JSON [--token JWT] [--mode auto|legacy]

--calls is a JSON list of {"label", "tool", "arguments"}. All calls start together (asyncio.gather)
on one client; the output (stdout, one JSON object) maps each label to
{"result": text of the first content item, "is_error": bool, "seconds": float} or
{"error": {"code", "message"}, "seconds": float}. Prints "SESSION READY" on stderr once the
handshake is done, so a test can wait for it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from importlib.metadata import version as dist_version

SDK_MAJOR = int(dist_version("mcp").split(".")[0])


def summary(result, started: float) -> dict:
    content = result.content[0].text if result.content else None
    return {"result": content, "is_error": bool(result.isError) if hasattr(result, "isError") else bool(result.is_error),
            "seconds": round(time.monotonic() - started, 3)}


def failure(exc: BaseException, started: float) -> dict:
    err = getattr(exc, "error", None)
    if err is not None and hasattr(err, "code"):
        return {"error": {"code": err.code, "message": err.message}, "seconds": round(time.monotonic() - started, 3)}
    return {"error": {"type": type(exc).__name__, "message": str(exc)}, "seconds": round(time.monotonic() - started, 3)}


async def call_all(client, calls: list[dict]) -> dict:
    print("SESSION READY", file=sys.stderr, flush=True)

    async def one(call: dict):
        started = time.monotonic()
        try:
            return call["label"], summary(await client.call_tool(call["tool"], call.get("arguments", {})), started)
        except Exception as exc:  # noqa: BLE001 - the report says what happened
            return call["label"], failure(exc, started)

    return dict(await asyncio.gather(*(one(c) for c in calls)))


async def run(url: str, calls: list[dict], token: str | None, mode: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if SDK_MAJOR >= 2:
        import httpx2
        from mcp.client import Client
        from mcp.client.streamable_http import streamable_http_client
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)) as http:
            async with Client(streamable_http_client(url, http_client=http), mode=mode, cache=None, read_timeout_seconds=300) as client:
                return await call_all(client, calls)
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    async with httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30.0, read=300.0)) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await call_all(session, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", required=True)
    parser.add_argument("--token")
    parser.add_argument("--mode", choices=("auto", "legacy"), default="auto", help="SDK 2.x Client(mode=...)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.url, json.loads(args.calls), args.token, args.mode)), sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
