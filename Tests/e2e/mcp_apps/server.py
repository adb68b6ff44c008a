"""Example MCP server for the end-to-end tests, on the official Python SDK.

    python server.py --transport streamable|json|stateless|sse [--port N] [--keep-alive SECONDS]

Runs with either SDK line: ``mcp`` 1.x (``FastMCP``) or 2.x (``MCPServer``), whichever
the interpreter has installed. It binds 127.0.0.1 (``--port 0``, the default, picks a free
port) and prints one line ``READY <port> <sdk-version> <transport>`` on stdout once uvicorn
accepts connections.

Transports:
    streamable  Streamable HTTP at /mcp, stateful, POST answered with text/event-stream
    json        Streamable HTTP at /mcp, stateful, POST answered with application/json
    stateless   Streamable HTTP at /mcp, stateless (no Mcp-Session-Id), SSE answers
    sse         legacy HTTP+SSE: GET /sse, POST /messages/?session_id=...

Tools: echo(text), add(a, b), slow_progress(steps), big(size_mb), fail(message);
resource template note://{name}.

The SDK's DNS-rebinding protection stays on (its localhost default allows the
``Host`` values ``127.0.0.1:*`` and ``localhost:*``, which is what a client, or the
sidecar rewriting ``Host`` to the upstream authority, sends).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from importlib.metadata import version as _dist_version

import uvicorn

SDK_VERSION = _dist_version("mcp")
SDK_MAJOR = int(SDK_VERSION.split(".")[0])

if SDK_MAJOR >= 2:
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
else:
    from mcp.server.fastmcp import Context, FastMCP
    from mcp.server.fastmcp.exceptions import ToolError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import big_text  # noqa: E402  (SDK-free helpers shared with the clients and tests)

TRANSPORTS = ("streamable", "json", "stateless", "sse")
PROGRESS_DELAY = 0.05  # seconds between two progress notifications


def register(mcp) -> None:
    @mcp.tool()
    def echo(text: str) -> str:
        """Return the text unchanged (and note it in $ECHO_LOG, when set: what reached the server)."""
        if os.environ.get("ECHO_LOG"):
            with open(os.environ["ECHO_LOG"], "a") as log:
                log.write(text + "\n")
        return text

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool()
    async def slow_progress(steps: int, ctx: Context) -> str:
        """Report progress `steps` times, sleeping briefly between reports."""
        for i in range(1, steps + 1):
            await asyncio.sleep(PROGRESS_DELAY)
            await ctx.report_progress(i, steps, f"step {i} of {steps}")
        return f"done after {steps} steps"

    @mcp.tool()
    def big(size_mb: int) -> str:
        """Return a text of size_mb MiB."""
        return big_text(size_mb)

    @mcp.tool()
    def fail(message: str) -> str:
        """Always fail: the SDK turns the ToolError into a result with isError true."""
        raise ToolError(message)

    @mcp.resource("note://{name}")
    def note(name: str) -> str:
        """A small text note."""
        return f"This is the note called {name}."


def build_app(transport: str):
    if SDK_MAJOR >= 2:
        mcp = MCPServer("e2e-example", version="1.0.0", log_level="WARNING")
        register(mcp)
        if transport == "sse":
            return mcp.sse_app(host="127.0.0.1")
        return mcp.streamable_http_app(
            json_response=transport == "json",
            stateless_http=transport == "stateless",
            host="127.0.0.1",
        )
    mcp = FastMCP(
        "e2e-example",
        host="127.0.0.1",
        log_level="WARNING",
        json_response=transport == "json",
        stateless_http=transport == "stateless",
    )
    register(mcp)
    if transport == "sse":
        return mcp.sse_app()
    return mcp.streamable_http_app()


def require_header(app, name: str, path: str):
    """Answers 401 to every HTTP request whose `name` header is not the content of `path`
    (read per request, so a test can rotate it): an MCP server that needs a credential."""
    key = name.lower().encode()

    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            expected = open(path, "rb").read().strip()
            got = [v for k, v in scope["headers"] if k == key]
            if got != [expected]:
                body = b'{"error":"missing or wrong ' + name.encode() + b'"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)
    return guarded


async def serve(transport: str, port: int, keep_alive: float, required: str | None = None) -> None:
    app = build_app(transport)
    if required:
        name, _, path = required.partition(":")
        app = require_header(app, name, path)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            timeout_keep_alive=keep_alive)
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        actual = server.servers[0].sockets[0].getsockname()[1]
        print(f"READY {actual} {SDK_VERSION} {transport}", flush=True)

    task = asyncio.create_task(announce())
    await server.serve()
    task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=TRANSPORTS, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep-alive", type=float, default=5.0,
                        help="uvicorn's idle keep-alive timeout in seconds (uvicorn's default: 5)")
    parser.add_argument("--require-header", metavar="NAME:FILE",
                        help="answer 401 unless the request's NAME header equals FILE's content (read per request)")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.transport, args.port, args.keep_alive, args.require_header))
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
