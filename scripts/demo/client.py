"""A small MCP client for the demo (scripts/demo.sh), on the official MCP Python SDK.

    python scripts/demo/client.py URL [--as EMAIL | --token TOKEN]

Connects with streamable HTTP to URL (e.g. http://127.0.0.1:15001/mcp), initializes,
lists the tools, calls a few of them (one of which fails on purpose), reads a
resource, gets a prompt, and ends the session. Prints each step, and as its last
line ``mcp-session-id: <id>``. Exit status 0 when every step worked as expected.

--as EMAIL sends a made-up bearer JWT for that user (HS256 with a demo key, issuer
https://login.demo.invalid): the recorder records its claims as the caller's identity
(without --oidc-issuer it does not verify signatures). --token sends a given token instead.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import sys
import time
from datetime import timedelta

import httpx
from mcp import ClientSession
from pydantic import AnyUrl

try:  # mcp >= 1.23
    from mcp.client.streamable_http import streamable_http_client
except ImportError:  # older 1.x
    streamable_http_client = None
    from mcp.client.streamable_http import streamablehttp_client

CALLS = [
    ("add", {"a": 2, "b": 40}),
    ("weather", {"city": "Paris"}),
    ("weather", {"city": "Reykjavík"}),
    ("lookup_order", {"order_id": "A-1001"}),
    ("lookup_order", {"order_id": "Z-9999"}),  # fails on purpose: isError
    ("slow_count", {"n": 3}),
]


def demo_jwt(email: str) -> str:
    """An HS256 JWT with demo claims; the key is public, so it proves nothing (it is a demo)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"iss": "https://login.demo.invalid", "sub": email, "email": email, "aud": "mcp-demo",
              "groups": ["demo-users"], "azp": "demo-client", "iat": now, "exp": now + 3600}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = hmac.new(b"mcp-recorder-demo-key", signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def text_of(result) -> str:
    parts = []
    for item in result.content:
        parts.append(item.text if getattr(item, "type", "") == "text" else f"[{item.type}]")
    return " | ".join(parts)


async def exercise(session: ClientSession) -> bool:
    ok = True
    init = await session.initialize()
    print(f"initialize        → {init.serverInfo.name} {init.serverInfo.version}, protocol {init.protocolVersion}")

    tools = await session.list_tools()
    print(f"tools/list        → {', '.join(t.name for t in tools.tools)}")

    for name, arguments in CALLS:
        progress = []

        async def on_progress(value, total, message, _seen=progress):
            _seen.append(message)

        result = await session.call_tool(name, arguments, progress_callback=on_progress)
        marker = "error" if result.isError else "ok"
        extra = f"  (progress: {', '.join(m or '' for m in progress)})" if progress else ""
        print(f"tools/call {name} {json.dumps(arguments, ensure_ascii=False)} → {marker}: {text_of(result)}{extra}")
        expected_error = name == "lookup_order" and arguments["order_id"] == "Z-9999"
        ok = ok and bool(result.isError) == expected_error

    resource = await session.read_resource(AnyUrl("note://demo"))
    print(f"resources/read    note://demo → {resource.contents[0].text}")

    prompt = await session.get_prompt("summarize", {"text": "MCP servers record nothing by themselves."})
    first = prompt.messages[0].content
    print(f"prompts/get       summarize → {getattr(first, 'text', first).splitlines()[0]}")
    return ok


async def run(url: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = httpx.Timeout(30.0, read=60.0)
    session_id = None
    async with httpx.AsyncClient(headers=headers, timeout=timeout) as http:
        if streamable_http_client is not None:
            context = streamable_http_client(url, http_client=http)
        else:
            context = streamablehttp_client(url, headers=headers)
        async with context as (read, write, get_session_id):
            async with ClientSession(read, write, read_timeout_seconds=timedelta(seconds=60)) as session:
                ok = await exercise(session)
                session_id = get_session_id()
    print(f"mcp-session-id: {session_id or '(none)'}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--as", dest="email", help="send a made-up bearer JWT for this user")
    who.add_argument("--token", help="send Authorization: Bearer TOKEN with every request")
    args = parser.parse_args()
    token = demo_jwt(args.email) if args.email else args.token
    try:
        sys.exit(asyncio.run(run(args.url, token)))
    except BaseException as exc:  # noqa: BLE001 - one readable line instead of a task-group traceback
        if isinstance(exc, SystemExit):
            raise
        inner = getattr(exc, "exceptions", None) or [exc]
        for e in inner:
            print(f"client: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
