#!/usr/bin/env python3
"""Writes the text seed corpora of the fuzz targets under Tests/Fuzz/corpus/<target>/.

Seeds come from the test fixtures: the HTTP exchanges, SSE streams and JSON-RPC bodies the
unit tests use, and every casebook input of webhook/cases wrapped in an AdmissionReview.
The segment and upload seeds (real gzip segments) are written by the fuzz binary's stub:
`mcp-recorder-fuzz seed Tests/Fuzz/corpus`. Re-running this script rewrites the same files.
"""
import json
import pathlib
import struct

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "Tests" / "Fuzz" / "corpus"


def write(target: str, name: str, data: bytes) -> None:
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)


def http1_seed(client: bytes, server: bytes, chunking: int) -> bytes:
    """Byte 0: chunking; bytes 1-2: the client's length; then client bytes, then server bytes."""
    return bytes([chunking]) + struct.pack("<H", len(client)) + client + server


RPC = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi","password":"hunter2secret"}}}'
RESULT = b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}]}}'
SSE = (b"event: message\r\ndata: " + b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}' + b"\r\n\r\n"
       + b"id: 7\nevent: message\ndata: " + RESULT + b"\n\n" + b": keep-alive\n\nretry: 100\n\n")


def chunked(body: bytes, sizes=(5, 7)) -> bytes:
    out, i = b"", 0
    for size in sizes:
        piece = body[i:i + size]
        if not piece:
            break
        out += b"%x;ext=1\r\n" % len(piece) + piece + b"\r\n"
        i += size
    if i < len(body):
        out += b"%x\r\n" % (len(body) - i) + body[i:] + b"\r\n"
    return out + b"0\r\nX-Trailer: t\r\n\r\n"


def main() -> None:
    post = (b"POST /mcp HTTP/1.1\r\nHost: mcp.local\r\nContent-Type: application/json\r\nMcp-Session-Id: s-1\r\n"
            b"Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.\r\nContent-Length: %d\r\n\r\n" % len(RPC) + RPC)
    json_answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(RESULT) + RESULT
    sse_answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(SSE, (40, 60))
    chunked_post = b"POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n" + chunked(RPC)
    get_sse = b"GET /sse HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n"
    legacy = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nevent: endpoint\ndata: /messages/?session_id=abc\n\n"
    upgrade = b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"
    switched = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02ok"
    smuggle = b"POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 0\r\n0123456789abcdef\r\n0\r\n\r\n"
    seeds = {
        "post-json": http1_seed(post + post, json_answer + json_answer, 0),
        "post-sse": http1_seed(post, sse_answer, 3),
        "chunked-post": http1_seed(chunked_post, json_answer, 1),
        "legacy-sse": http1_seed(get_sse, legacy, 5),
        "upgrade": http1_seed(upgrade, switched, 2),
        "smuggle": http1_seed(smuggle, b"", 7),
        "head-and-204": http1_seed(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nDELETE /mcp HTTP/1.1\r\nHost: a\r\n\r\n",
                                   b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 4),
        "not-http": http1_seed(b"\x16\x03\x01\x02\x00hello", b"\x16\x03\x03", 0),
    }
    for name, data in seeds.items():
        write("http1", name, data)

    write("sse", "mixed", b"\x00" + SSE)
    write("sse", "crlf-split", b"\x05" + b"\xef\xbb\xbfdata: a\r\ndata: b\r\rid: 1\r\n\r\nevent: e\ndata\n\n")
    write("sse", "long", b"\x09" + b"data: " + b"x" * 1500 + b"\n\n")

    write("redactor", "tool-call", b"\x00" + RPC)
    write("redactor", "nested", b"\x03" + json.dumps({"jsonrpc": "2.0", "id": 2, "result": {
        "token": {"value": "AbcDefGhiJkl", "kind": ["opaque", "Zyxwvutsrq"]},
        "items": [{"api_key": "Secret_Value_99"}, {"note": "fine"}], "Password": "Mixed_Case_Pass1"}}).encode())
    write("redactor", "escaped-key", b"\x02" + b'{"pass\\u0077ord":"escaped_key_value","secret":12345678,"x":"\\"q\\""}')
    write("redactor", "sse-embedded", b"\x04" + b'data: {"authorization":"Bearer_Token_xyz"}\n\n')

    for name, data in {"request": RPC, "result": RESULT,
                       "batch": b"[" + RPC + b"," + RESULT + b',{"jsonrpc":"2.0","method":"notifications/initialized"}]',
                       "error": b'{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"no","data":[1.5e3,-0,true,null]}}',
                       "unicode": '{"s":"\\ud83d\\ude00 é \\u0000","n":123456789012345678901234567890}'.encode()}.items():
        write("jsonrpc", name, data)

    for case in sorted((ROOT / "webhook" / "cases").iterdir()):
        for index, doc in enumerate(d for d in yaml.safe_load_all((case / "input.yaml").read_text()) if d):
            kind = doc.get("kind", "Pod")
            group = "" if kind == "Pod" else ("batch" if kind in ("Job", "CronJob") else "apps")
            review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                "uid": f"{case.name}-{index}", "kind": {"group": group, "version": "v1", "kind": kind},
                "namespace": doc.get("metadata", {}).get("namespace", "team-a"),
                "operation": "CREATE", "object": doc}}
            write("admission", f"{case.name}-{index}", json.dumps(review).encode())


if __name__ == "__main__":
    main()
