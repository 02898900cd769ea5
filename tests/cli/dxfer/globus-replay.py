#!/usr/bin/env python3
"""A stand-in for the Globus Transfer API (v0.10) over HTTPS on 127.0.0.1.

It answers dxfer's calls with the documents in tests/cli/dxfer/globus/ and logs
each request ("METHOD PATH" and, for POST, the body as one JSON line) so that
tests can check what dxfer sent. The task status sequence comes from the file
named by --scenario, read on every request:
  ok       ACTIVE, ACTIVE, SUCCEEDED        nothing  SUCCEEDED with nothing moved
  fail     ACTIVE, FAILED                   inactive INACTIVE
  slow     ACTIVE for ever (a client killed while it waits)
  flaky    one 503, then as ok
Usage: globus-replay.py DOCS_DIR CERT KEY TOKEN SCENARIO_FILE LOG PORT_FILE
"""
import http.server, json, os, ssl, sys

docs, cert, key, token, scenario_file, log_path, port_file = sys.argv[1:8]
state = {"polls": 0, "scenario": None, "flaked": False, "submissions": set()}


def doc(name):
    with open(os.path.join(docs, name), "rb") as f:
        return f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with open(log_path, "a") as log:
            log.write(f"{method} {self.path}\n")
            if body:
                log.write(json.dumps(json.loads(body), sort_keys=True) + "\n")
        if self.headers.get("Authorization") != "Bearer " + token:
            return self.reply(401, doc("error_auth.json"))
        with open(scenario_file) as f:
            scenario = f.read().strip()
        if scenario != state["scenario"]:
            state.update(scenario=scenario, polls=0, flaked=False)
        if method == "GET" and self.path == "/v0.10/submission_id":
            return self.reply(200, doc("submission_id.json"))
        if method == "POST" and self.path == "/v0.10/transfer":
            sid = json.loads(body).get("submission_id")
            dup = sid in state["submissions"]
            state["submissions"].add(sid)
            state["polls"] = 0
            return self.reply(200, doc("transfer_duplicate.json" if dup else "transfer_accepted.json"))
        if method == "GET" and self.path.startswith("/v0.10/task/"):
            if scenario == "flaky" and not state["flaked"]:
                state["flaked"] = True
                return self.reply(503, doc("error_unavailable.json"))
            state["polls"] += 1
            n = state["polls"]
            seq = {"ok": ["task_active.json", "task_active.json", "task_succeeded.json"],
                   "flaky": ["task_active.json", "task_active.json", "task_succeeded.json"],
                   "nothing": ["task_succeeded_nothing.json"],
                   "fail": ["task_active.json", "task_failed.json"],
                   "inactive": ["task_inactive.json"],
                   "slow": ["task_active.json"]}[scenario]
            return self.reply(200, doc(seq[min(n, len(seq)) - 1]))
        return self.reply(404, b'{"code": "ClientError.NotFound", "message": "no such resource"}')

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
