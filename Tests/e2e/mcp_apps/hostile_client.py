"""Calls the example server's `echo` tool with hostile payloads (MCP SDK 1.x, streamable HTTP).

    hostile_client.py --url URL [--token JWT]

Each payload comes back as the tool's result, so the recording carries it in the arguments
and in the result: the web UI must show it as inert text. Prints the payloads as JSON.
"""
from __future__ import annotations

import argparse
import asyncio
import json

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

PAYLOADS = [
    "<script>window.__pwned = 1; fetch('https://example.invalid/script')</script>",
    "<img src=x onerror=\"window.__pwned = 2\">",
    "<svg onload=\"window.__pwned = 3\"><circle r=\"9\"></circle></svg>",
    "<a id=\"evil-link\" href=\"javascript:window.__pwned = 4\">click me</a>",
    "\"><iframe src=\"https://example.invalid/frame\"></iframe>",
    "</pre></details><style>body{display:none}</style><link rel=stylesheet href=https://example.invalid/x.css>",
    "{{user.csrf}} {{> head}}",
]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        async with streamable_http_client(args.url, http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                for payload in PAYLOADS:
                    await session.call_tool("echo", {"text": payload})
    print(json.dumps(PAYLOADS))


if __name__ == "__main__":
    asyncio.run(main())
