#!/usr/bin/env bash
# The README's first command: record a real MCP session end to end and read it back.
#
#   1. builds mcp-recorder and makes a Python venv with the official MCP SDK (.venv, as scripts/test.sh does);
#   2. starts a small example MCP server (scripts/demo/server.py) on a free port;
#   3. starts `mcp-recorder dev` in front of it: the recording proxy, a shipper and an embedded
#      collector (HTTPS, self-signed CA, static tokens), all under ./mcp-recorder-data;
#   4. runs an MCP client (scripts/demo/client.py) through the recorder;
#   5. waits until the collector has indexed the session, then shows it with
#      `mcp-recorder sessions list`, `sessions show` and `sessions verify`.
#
# Background processes are stopped on exit. In a terminal, the script waits for Enter before
# stopping, so the session can be explored with the commands it prints.
#
# Environment: DEMO_DATA (default ./mcp-recorder-data), DEMO_LISTEN (default 127.0.0.1:15001),
# DEMO_COLLECTOR_LISTEN (default 127.0.0.1:15443), DEMO_WAIT=0/1 (default: 1 when stdin is a terminal).
set -euo pipefail
cd "$(dirname "$0")/.."

data=${DEMO_DATA:-./mcp-recorder-data}
listen=${DEMO_LISTEN:-127.0.0.1:15001}
collector_listen=${DEMO_COLLECTOR_LISTEN:-127.0.0.1:15443}
if [ -t 0 ]; then wait_default=1; else wait_default=0; fi
wait_at_end=${DEMO_WAIT:-$wait_default}
logs="$data/demo-logs"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }

server_pid=""
dev_pid=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$dev_pid" ] && kill -0 "$dev_pid" 2>/dev/null; then
        kill -TERM "$dev_pid" 2>/dev/null || true   # seals the open segment and ships it before exiting
        for _ in $(seq 1 100); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$dev_pid" 2>/dev/null || true
    fi
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port that nothing answers on: the given one, else one the kernel picks (port 0).
free_or_any() {
    local host=${1%:*} port=${1##*:}
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
        echo "$host:0"
    else
        echo "$1"
    fi
}

# ---------------------------------------------------------------------------------------------
say "building mcp-recorder (the first build takes a few minutes)"
mkdir -p "$logs"
if ! swift build --product mcp-recorder >"$logs/build.log" 2>&1; then
    tail -n 40 "$logs/build.log" >&2
    fail "swift build failed (full log: $logs/build.log)"
fi
recorder="$(swift build --show-bin-path)/mcp-recorder"

say "preparing the Python venv with the MCP SDK (.venv)"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv || fail "cannot create .venv (on Debian: apt-get install python3-venv)"
fi
if ! cmp -s scripts/requirements-test.txt .venv/requirements-test.txt; then
    .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
    cp scripts/requirements-test.txt .venv/requirements-test.txt
fi
py=.venv/bin/python
json_get() { "$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# ---------------------------------------------------------------------------------------------
say "starting the example MCP server (scripts/demo/server.py)"
"$py" scripts/demo/server.py 0 >"$logs/server.out" 2>"$logs/server.log" &
server_pid=$!
server_port=""
for _ in $(seq 1 150); do
    server_port=$(awk '/^READY/ {print $2; exit}' "$logs/server.out" 2>/dev/null || true)
    [ -n "$server_port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$logs/server.log" >&2; fail "the example server exited"; }
    sleep 0.1
done
[ -n "$server_port" ] || fail "the example server did not start (log: $logs/server.log)"
upstream="http://127.0.0.1:$server_port/mcp"
echo "example MCP server: $upstream"

say "starting mcp-recorder dev --upstream $upstream --data $data"
rm -f "$data/dev.json"
"$recorder" dev --upstream "$upstream" --data "$data" \
    --listen "$(free_or_any "$listen")" --collector-listen "$(free_or_any "$collector_listen")" \
    >"$logs/dev.out" 2>"$logs/dev.log" &
dev_pid=$!
for _ in $(seq 1 600); do
    [ -s "$data/dev.json" ] && break
    kill -0 "$dev_pid" 2>/dev/null || { cat "$logs/dev.out" "$logs/dev.log" >&2; fail "mcp-recorder dev exited"; }
    sleep 0.1
done
[ -s "$data/dev.json" ] || fail "mcp-recorder dev did not write $data/dev.json (log: $logs/dev.log)"
for _ in $(seq 1 20); do [ -s "$logs/dev.out" ] && break; sleep 0.1; done
cat "$logs/dev.out"

mcp_url=$(json_get "$data/dev.json" mcp_url)
collector_url=$(json_get "$data/dev.json" collector_url)
ca_file=$(json_get "$data/dev.json" ca_file)
token_file="$data/tokens/read.token"
if [ -s "$token_file" ]; then
    auth=(--token-file "$token_file")
else
    token_file=""
    auth=(--token "$(json_get "$data/dev.json" read_token)")
fi
conn=(--collector "$collector_url" --ca "$ca_file" "${auth[@]}")

# The collector answers (an empty list is fine).
for _ in $(seq 1 100); do
    "$recorder" sessions list "${conn[@]}" --limit 1 >/dev/null 2>&1 && break
    sleep 0.2
done
"$recorder" sessions list "${conn[@]}" --limit 1 >/dev/null || fail "the collector at $collector_url does not answer (log: $logs/dev.log)"

# ---------------------------------------------------------------------------------------------
say "running an MCP client through the recorder as alice@example.com: $mcp_url"
client_started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"$py" scripts/demo/client.py "$mcp_url" --as alice@example.com | tee "$logs/client.out" || fail "the MCP client failed"
mcp_session=$(awk -F': ' '/^mcp-session-id: / {print $2}' "$logs/client.out")
[ -n "$mcp_session" ] && [ "$mcp_session" != "(none)" ] || fail "the client did not get an MCP session id"

say "waiting for the collector to index the session (segments are sealed every 2 s, then shipped)"
# The client made 10 requests; wait until they are all indexed, or until the count stops growing.
# The session is looked up by its Mcp-Session-Id; after 20 s without it, the newest session active
# since the client started is taken instead.
session_id="" calls=0 last=-1 stable=0
for attempt in $(seq 1 60); do
    filter=(--mcp-session "$mcp_session")
    [ "$attempt" -gt 20 ] && filter=(--since "$client_started" --limit 1)
    if answer=$("$recorder" sessions list "${conn[@]}" "${filter[@]}" --output json 2>/dev/null); then
        found=$(printf '%s' "$answer" | "$py" -c '
import json, sys
sessions = json.load(sys.stdin)["sessions"]
if sessions:
    print(sessions[0]["id"], sessions[0]["calls"])')
        if [ -n "$found" ]; then session_id=${found% *} calls=${found##* }; fi
    fi
    if [ -n "$session_id" ]; then
        [ "$calls" -ge 10 ] && break
        if [ "$calls" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
        [ "$stable" -ge 5 ] && break
        last=$calls
    fi
    sleep 1
done
[ -n "$session_id" ] || fail "the session did not show up in the collector within 60 s (logs: $logs/dev.log)"

# ---------------------------------------------------------------------------------------------
say "mcp-recorder sessions list"
"$recorder" sessions list "${conn[@]}"

say "mcp-recorder sessions show $session_id"
"$recorder" sessions show "${conn[@]}" "$session_id"

say "mcp-recorder sessions verify $session_id"
"$recorder" sessions verify "${conn[@]}" "$session_id" || true

if [ -n "$token_file" ]; then auth_env="MCP_RECORDER_TOKEN_FILE=$token_file"; else auth_env="MCP_RECORDER_TOKEN=${auth[1]}"; fi
cat <<EOF

${bold}Look further${plain} (while the recorder runs; everything is kept in $data):
  export MCP_RECORDER_COLLECTOR=$collector_url MCP_RECORDER_CA=$ca_file $auth_env
  $recorder sessions list --tool weather --since 1h
  $recorder sessions show $session_id --full
  $recorder sessions export $session_id | jq -c 'select(.kind == "jsonrpc") | {seq, from, method, tool, id}'
  $recorder sessions replay $session_id --against $upstream
  or point your own MCP client at $mcp_url
Every option can be given on the command line instead (--collector, --ca, --token-file); see --help.
EOF

if [ "$wait_at_end" = "1" ]; then
    printf '\nThe recorder and the example server keep running. Press Enter to stop them. '
    read -r _ || true
else
    echo "(The recorder stops with this script; \`$recorder dev --upstream URL --data $data\` serves the same data again.)"
fi
