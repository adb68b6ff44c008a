"""What the e2e MCP clients (client1.py, client2.py) share: the report they print.

No MCP SDK import here: both SDK lines use it. The HTTP hooks work with the
``httpx`` (1.x SDK) and ``httpx2`` (2.x SDK) async clients alike.

A report is one JSON document. Everything in it is expected to be identical when
the same client runs against the same server directly and through the recording
proxy, except the keys in ``VOLATILE_KEYS``:

    client            SDK name/version and mode
    protocol_version  negotiated MCP protocol version
    server_name       the server's name from initialize/discover
    session_id        the Mcp-Session-Id of the session (from 2xx answers), or the ?session_id=
                      of the legacy SSE endpoint; volatile
    tools             sorted tool names from tools/list
    calls             per tool: content (texts over 64 KiB as length+sha256), structuredContent, isError
    progress          progress notifications received for slow_progress: [progress, total, message]
    resource          the resources/read result for note://e2e
    requests          JSON-RPC requests the client put on the wire (from the HTTP bodies),
                      sorted by id: {method, id, tool?, uri?}
    notifications     JSON-RPC notification methods the client sent, in order
    http              "METHOD STATUS content-type" of every non-GET HTTP exchange, sorted
    http_get          the same for GETs (volatile: a GET stream may be reopened at any time)
    errors            unexpected exceptions (empty when all went well)
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import sys
import traceback
from typing import Any
from urllib.parse import parse_qs, urlsplit

VOLATILE_KEYS = ("session_id", "http_get")
INLINE_TEXT_LIMIT = 64 * 1024
TOOLS_CALLED = ("echo", "add", "slow_progress", "big", "fail")
ECHO_TEXT = "hello, recorder \u2603 \"quotes\" and \\ backslash"
PROGRESS_STEPS = 3
BIG_MB = 5
FAIL_MESSAGE = "deliberate failure for the recorder"
RESOURCE_URI = "note://e2e"


@functools.lru_cache(maxsize=8)
def big_text(size_mb: int) -> str:
    """What big(size_mb) returns: deterministic ASCII text of exactly size_mb MiB, with
    newlines, quotes and backslashes (escaped in JSON)."""
    size = size_mb * 1024 * 1024
    parts, total, i = [], 0, 0
    while total < size:
        line = f"line {i:07d}: the quick brown fox jumps over the lazy dog \"quoted\" \\ back\n"
        parts.append(line)
        total += len(line)
        i += 1
    return "".join(parts)[:size]


def tool_arguments(name: str) -> dict[str, Any]:
    return {
        "echo": {"text": ECHO_TEXT},
        "add": {"a": 40, "b": 2},
        "slow_progress": {"steps": PROGRESS_STEPS},
        "big": {"size_mb": BIG_MB},
        "fail": {"message": FAIL_MESSAGE},
    }[name]


def shrink(value: Any) -> Any:
    """Replace long strings anywhere in a JSON value by {length, sha256}."""
    if isinstance(value, str) and len(value) > INLINE_TEXT_LIMIT:
        data = value.encode("utf-8")
        return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if isinstance(value, list):
        return [shrink(v) for v in value]
    if isinstance(value, dict):
        return {k: shrink(v) for k, v in value.items()}
    return value


def dump_model(model: Any) -> Any:
    """A pydantic model as wire JSON (camelCase aliases, no unset/None members)."""
    return json.loads(model.model_dump_json(by_alias=True, exclude_none=True))


def call_summary(result: Any) -> dict[str, Any]:
    d = dump_model(result)
    d.pop("_meta", None)
    return {
        "isError": bool(d.get("isError", False)),
        "content": shrink(d.get("content", [])),
        "structuredContent": shrink(d.get("structuredContent")),
    }


class Report:
    def __init__(self, client: str, mode: str):
        self.data: dict[str, Any] = {
            "client": client,
            "mode": mode,
            "protocol_version": None,
            "server_name": None,
            "session_id": None,
            "tools": [],
            "calls": {},
            "progress": [],
            "resource": None,
            "requests": [],
            "notifications": [],
            "http": [],
            "http_get": [],
            "errors": [],
        }
        self._requests: list[dict[str, Any]] = []
        self._sent = 0  # non-GET HTTP requests sent
        self._answered = 0  # ... and answered

    # -- HTTP hooks (httpx / httpx2 event_hooks, async) -------------------------
    async def on_request(self, request: Any) -> None:
        url = urlsplit(str(request.url))
        sid = parse_qs(url.query).get("session_id")
        if sid and not self.data["session_id"]:
            self.data["session_id"] = sid[0]
        if request.method != "GET":
            self._sent += 1
        if request.method != "POST":
            return
        try:
            body = json.loads(bytes(request.content))
        except Exception:  # noqa: BLE001 - a streaming or non-JSON body: nothing to list
            return
        for message in body if isinstance(body, list) else [body]:
            if not isinstance(message, dict) or "method" not in message:
                continue
            if "id" in message:
                entry = {"method": message["method"], "id": message["id"]}
                params = message.get("params") or {}
                if message["method"] in ("tools/call", "prompts/get") and "name" in params:
                    entry["tool"] = params["name"]
                if message["method"].startswith("resources/") and "uri" in params:
                    entry["uri"] = params["uri"]
                self._requests.append(entry)
            else:
                self.data["notifications"].append(message["method"])

    async def on_response(self, response: Any) -> None:
        request = response.request
        ctype = response.headers.get("content-type", "").split(";")[0].strip()
        line = f"{request.method} {response.status_code} {ctype}".rstrip()
        self.data["http_get" if request.method == "GET" else "http"].append(line)
        if request.method != "GET":
            self._answered += 1
        # The session's id comes with successful answers; an error answer may name a session
        # the server created and dropped at once (a 1.x server answering a server/discover probe).
        sid = response.headers.get("mcp-session-id")
        if sid and 200 <= response.status_code < 300:
            self.data["session_id"] = sid

    def event_hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every non-GET request has its answer head. On legacy SSE a result arrives on
        the GET stream and can overtake the POST's 202; leaving the session then would cancel
        the POST before its answer is seen, and the report would depend on that race."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._answered < self._sent and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)

    # -- results ----------------------------------------------------------------
    async def progress_callback(self, progress: float, total: float | None, message: str | None) -> None:
        self.data["progress"].append([progress, total, message])

    def error(self, where: str, exc: BaseException) -> None:
        self.data["errors"].append({
            "where": where,
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:],
        })

    def finish(self) -> dict[str, Any]:
        self.data["requests"] = sorted(self._requests, key=lambda r: (str(type(r["id"])), r["id"]))
        self.data["http"].sort()
        self.data["http_get"].sort()
        return self.data

    def emit(self) -> None:
        json.dump(self.finish(), sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
        sys.stdout.flush()


def error_summary(exc: BaseException) -> dict:
    """What a failed call looked like to the client, for the report."""
    err = getattr(exc, "error", None)
    if err is not None and hasattr(err, "code"):
        return {"error": {"code": err.code, "message": err.message}}
    return {"error": {"type": type(exc).__name__, "message": str(exc)}}


async def exercise_tools(client, read_resource, report: "Report") -> None:
    """The calls every client makes after the handshake: list tools, call each tool of
    TOOLS_CALLED (progress for slow_progress), read the resource. `client` is an SDK
    session or client (both SDK lines share these method names); `read_resource(uri)`
    adapts the one call whose argument type differs between the lines."""
    tools = await client.list_tools()
    report.data["tools"] = sorted(t.name for t in tools.tools)
    for name in TOOLS_CALLED:
        try:
            result = await client.call_tool(
                name, tool_arguments(name),
                progress_callback=report.progress_callback if name == "slow_progress" else None,
            )
            report.data["calls"][name] = call_summary(result)
        except Exception as exc:  # noqa: BLE001 - recorded in the report
            report.data["calls"][name] = error_summary(exc)
            report.error(f"call {name}", exc)
    try:
        resource = await read_resource(RESOURCE_URI)
        report.data["resource"] = shrink(dump_model(resource))
    except Exception as exc:  # noqa: BLE001
        report.data["resource"] = error_summary(exc)
        report.error("read_resource", exc)
    await report.settle()
