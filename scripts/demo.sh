#!/usr/bin/env bash
# The README's first command. Until the sidecar and collector land, it shows the
# recording format end to end: it writes a spool of MCP-like traffic through the
# real segment writer, then reads it back with the segment tools and with zcat | jq.
set -euo pipefail
cd "$(dirname "$0")/.."

data=${MCP_RECORDER_DEMO_DIR:-./mcp-recorder-data/demo}
echo "==> building"
swift build --product mcp-recorder >/dev/null
swift build --product segment-bench >/dev/null
bin=$(swift build --show-bin-path)

rm -rf "$data"
mkdir -p "$data"
echo "==> recording 2 MB of generated MCP traffic into $data/spool"
"$bin/segment-bench" --dir "$data" --megabytes 2 >/dev/null

echo "==> mcp-recorder segments verify $data/spool"
"$bin/mcp-recorder" segments verify "$data/spool"

echo "==> mcp-recorder segments stats $data/spool"
"$bin/mcp-recorder" segments stats "$data/spool"

echo "==> the tool calls, with zcat | jq"
zcat "$data"/spool/*.seg.gz | jq -c 'select(.kind == "jsonrpc" and .type == "request") | {seq, conn, exchange, method, tool}' | head -5

echo "==> one request head, as stored"
"$bin/mcp-recorder" segments cat --kind http_request "$data/spool" | head -1 | jq -c .
