"""A small example MCP server for the demo (scripts/demo.sh), on the official MCP Python SDK.

    python scripts/demo/server.py PORT

Streamable HTTP at http://127.0.0.1:PORT/mcp (stateful: the server hands out an
Mcp-Session-Id; POSTs are answered with text/event-stream). Prints one line
``READY <port>`` on stdout once it accepts connections (PORT 0 picks a free port).

Tools:
    add(a, b)          the sum of two integers
    weather(city)      a (made-up, deterministic) weather report for a city, as text
    lookup_order(id)   an order's status; unknown ids give a tool error (isError: true)
    slow_count(n)      counts to n, sending a progress notification per step
Resource:
    note://{name}      a small text note
Prompt:
    summarize(text)    a prompt asking to summarize a text
"""
from __future__ import annotations

import asyncio
import sys
from importlib.metadata import version as dist_version

import uvicorn

SDK_VERSION = dist_version("mcp")
if int(SDK_VERSION.split(".")[0]) >= 2:
    from mcp.server.mcpserver import Context, MCPServer as FastMCP
    from mcp.server.mcpserver.exceptions import ToolError
else:
    from mcp.server.fastmcp import Context, FastMCP
    from mcp.server.fastmcp.exceptions import ToolError

ORDERS = {
    "A-1001": "shipped on 2026-11-20, arriving 2026-11-26",
    "A-1002": "being packed",
    "A-1003": "delivered on 2026-11-18",
}

CONDITIONS = ["sunny", "partly cloudy", "overcast", "light rain", "windy", "foggy"]


def make_server():
    if int(SDK_VERSION.split(".")[0]) >= 2:
        mcp = FastMCP("demo-weather-and-orders", version="1.0.0", log_level="WARNING")
    else:
        mcp = FastMCP("demo-weather-and-orders", host="127.0.0.1", log_level="WARNING")

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool()
    def weather(city: str) -> str:
        """Today's weather for a city (made up, but the same every time for the same city)."""
        seed = sum(city.lower().encode())
        condition = CONDITIONS[seed % len(CONDITIONS)]
        temperature = 5 + seed % 20
        return f"{city}: {condition}, {temperature} °C, wind {3 + seed % 7} m/s."

    @mcp.tool()
    def lookup_order(order_id: str) -> str:
        """The status of an order (A-1001 … A-1003); other ids are an error."""
        if order_id not in ORDERS:
            raise ToolError(f"no order {order_id!r}")
        return f"Order {order_id}: {ORDERS[order_id]}."

    @mcp.tool()
    async def slow_count(n: int, ctx: Context) -> str:
        """Count to n, reporting progress after each step."""
        for i in range(1, n + 1):
            await asyncio.sleep(0.05)
            await ctx.report_progress(i, n, f"counted {i}")
        return f"counted to {n}"

    @mcp.resource("note://{name}")
    def note(name: str) -> str:
        """A small text note."""
        return f"This is the note called {name}."

    @mcp.prompt()
    def summarize(text: str) -> str:
        """Ask for a summary of a text."""
        return f"Please summarize this text in one sentence:\n\n{text}"

    return mcp


async def serve(port: int) -> None:
    mcp = make_server()
    if int(SDK_VERSION.split(".")[0]) >= 2:
        app = mcp.streamable_http_app(host="127.0.0.1")
    else:
        app = mcp.streamable_http_app()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        print(f"READY {server.servers[0].sockets[0].getsockname()[1]}", flush=True)

    task = asyncio.create_task(announce())
    await server.serve()
    task.cancel()


def main() -> None:
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: server.py PORT")
    try:
        asyncio.run(serve(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
