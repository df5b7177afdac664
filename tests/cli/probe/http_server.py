"""A tiny streamable-HTTP MCP server for capm's probe tests (Python 3 standard library only).

Binds 127.0.0.1 on a free port and writes the port to the file named by its first argument.
Answers `initialize` as an event stream with an `Mcp-Session-Id`, and everything else as JSON,
refusing requests without that session or without the bearer token `tok-123`.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SESSION = "session-42"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", kind="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_DELETE(self):
        self.reply(200)

    def do_POST(self):
        msg = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != "Bearer tok-123":
            return self.reply(401, b'{"error": "unauthorized"}')
        if "text/event-stream" not in self.headers.get("Accept", ""):
            return self.reply(406)
        if msg["method"] == "initialize":
            result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                      "serverInfo": {"name": "probe-http", "version": "2.0.0"}}
            event = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            body = ("event: message\ndata: " + event + "\n\n").encode()
            return self.reply(200, body, "text/event-stream", [("Mcp-Session-Id", SESSION)])
        if self.headers.get("Mcp-Session-Id") != SESSION:
            return self.reply(400, b'{"error": "no session"}')
        if "id" not in msg:
            return self.reply(202)
        tools = [{"name": n, "inputSchema": {"type": "object"}} for n in "abcd"]
        body = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": tools}})
        self.reply(200, body.encode())


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
