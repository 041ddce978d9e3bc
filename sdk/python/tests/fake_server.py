"""A minimal in-process stand-in for the server, for unit tests of failure handling (refusals,
Retry-After, 5xx) that the real binary cannot be made to produce on demand. It implements only the
parts of doc/api.md the SDK writes to, with the same seq dedup rule. Integration tests use the real
binary (conftest.py)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

# A fault hook sees (method, path) and may return (status, headers, body) to answer instead.
Fault = Callable[[str, str], Optional[Tuple[int, Dict[str, str], Dict[str, Any]]]]


class FakeServer:
    def __init__(self, port: int = 0) -> None:
        self.runs: Dict[str, Dict[str, Any]] = {}
        self.lines: Dict[str, List[Dict[str, Any]]] = {}
        self.max_seq: Dict[Tuple[str, str], int] = {}
        self.requests: List[Tuple[str, str]] = []
        self.auth_headers: List[Optional[str]] = []
        self.client_ports: List[int] = []
        self.fault: Optional[Fault] = None
        self.lock = threading.RLock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                path = self.path
                with stub.lock:
                    stub.requests.append((method, path))
                    stub.auth_headers.append(self.headers.get("Authorization"))
                    stub.client_ports.append(self.client_address[1])
                    fault = stub.fault(method, path) if stub.fault else None
                if fault is not None:
                    self._reply(fault[0], fault[2], fault[1])
                    return
                body = json.loads(raw) if raw else None
                status, out = stub.dispatch(method, path, body)
                self._reply(status, out)

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def do_GET(self) -> None:
                self._handle("GET")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def dispatch(self, method: str, path: str, body: Any) -> Tuple[int, Any]:
        from urllib.parse import parse_qs, urlsplit

        parts = path.split("?")[0].split("/")[3:]  # after /api/v1
        query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        with self.lock:
            if method == "GET" and parts == ["health"]:
                return 200, {"status": "ok", "version": "stub"}
            if method == "GET" and parts == ["runs"]:
                return 200, {"runs": [r for r in self.runs.values() if r["project"] == query.get("project")]}
            if method == "GET" and len(parts) == 2 and parts[0] == "runs" and parts[1] in self.runs:
                return 200, dict(self.runs[parts[1]], line_count=len(self.lines[parts[1]]))
            if method == "GET" and len(parts) == 3 and parts[2] == "logs" and parts[1] in self.runs:
                after = int(query.get("after_line", 0))
                limit = int(query.get("limit", 500))
                rows = [r for r in self.lines[parts[1]] if r["line_number"] > after]
                return 200, {"logs": rows[:limit], "has_more": len(rows) > limit}
            if method == "POST" and parts == ["runs"]:
                rid = body["id"]
                if rid in self.runs:
                    return 200, self.runs[rid]
                self.runs[rid] = dict(body, state="running", exit_code=None)
                self.lines[rid] = []
                return 201, self.runs[rid]
            if len(parts) >= 2 and parts[0] == "runs":
                rid = parts[1]
                if rid not in self.runs:
                    return 404, {"error": {"code": "not_found", "message": "unknown run"}}
                if method == "PATCH" and len(parts) == 2:
                    self.runs[rid].update(body)
                    return 200, self.runs[rid]
                if method == "POST" and parts[2:] == ["logs", "batch"]:
                    writer = body.get("writer", "main")
                    accepted = dup = 0
                    for line in body["logs"]:
                        key = (rid, writer)
                        if "seq" in line and line["seq"] <= self.max_seq.get(key, -1):
                            dup += 1
                            continue
                        if "seq" in line:
                            self.max_seq[key] = line["seq"]
                        row = dict(line, writer=writer, line_number=len(self.lines[rid]) + 1)
                        row.setdefault("level", "INFO")
                        row.pop("seq", None)
                        self.lines[rid].append(row)
                        accepted += 1
                    return 200, {"accepted": accepted, "duplicates": dup}
            return 404, {"error": {"code": "not_found", "message": path}}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    import sys

    FakeServer(int(sys.argv[1])).thread.join()
