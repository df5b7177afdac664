"""A tiny MCP server over stdio for capm's probe tests (Python 3 standard library only).

The first argument picks how it behaves: ok, crash, hang, garbage, refuse or bad-tool.
"""
import json
import os
import subprocess
import sys
import time

MODE = sys.argv[1]

if MODE == "crash":
    sys.stderr.write("starting\n")
    sys.stderr.write("fatal: cannot log in with token " + os.environ.get("TOKEN", "") + "\n")
    sys.exit(3)
if MODE == "hang":
    helper = subprocess.Popen(["sleep", "300"])
    with open("helper.pid", "w") as f:
        f.write(str(helper.pid))
    time.sleep(300)
if MODE == "garbage":
    print("Server listening, press Ctrl-C to stop", flush=True)
    time.sleep(300)

# What the client launched, to prove argv, environment and working directory.
with open("seen.json", "w") as f:
    json.dump({"argv": sys.argv[1:], "token": os.environ.get("TOKEN"), "cwd": os.getcwd()}, f)

SCHEMA = {"type": "object", "properties": {}}
PAGES = [[{"name": n, "inputSchema": SCHEMA} for n in ["one", "two"]],
         [{"name": "three", "inputSchema": SCHEMA}]]
if MODE == "bad-tool":
    PAGES = [[{"name": "one", "inputSchema": SCHEMA}, {"name": "two"}]]


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg or "method" not in msg:
        continue  # a notification, or the answer to our ping
    method, rid = msg["method"], msg["id"]
    if method == "initialize" and MODE == "refuse":
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "unsupported protocol"}})
    elif method == "initialize":
        # A ping from the server before answering, as servers may send.
        send({"jsonrpc": "2.0", "id": "srv-1", "method": "ping"})
        send({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "hi"}})
        send({"jsonrpc": "2.0", "id": rid, "result": {
            "protocolVersion": "2025-03-26",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "probe-test", "version": "0.1.0"},
        }})
    elif method == "tools/list":
        page = int(msg.get("params", {}).get("cursor", "0"))
        result = {"tools": PAGES[page]}
        if page + 1 < len(PAGES):
            result["nextCursor"] = str(page + 1)
        send({"jsonrpc": "2.0", "id": rid, "result": result})
