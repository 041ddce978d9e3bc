"""The capture uploader (`wanllmdb run`) and `wanllmdb sync` honour Retry-After on 429, 503 and
507 through the one backoff rule (core/backoff.h): the next attempt comes no sooner than the
server asked. A local HTTP server refuses the first batch with `Retry-After: N` and records when
each batch arrives; the gap between the refused batch and its retry is at least N seconds (less
a clock tolerance). That is a lower bound the client must respect, not a speed threshold: a
slow machine only makes the gap longer. Without Retry-After the uploader's backoff starts at
0.1 s, so the bound is far from what it would do on its own."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import BINARY, run_cmd

PY = sys.executable
RETRY_AFTER = 2
EPSILON = 0.05  # the server records arrival after the client sent; clocks are the same one


class RefusingServer:
    """Answers like a wanllmdb server, except that the first batch carrying lines gets
    `status` with Retry-After; remembers (monotonic time, body) of every batch with lines."""

    def __init__(self, status: int) -> None:
        self.batches: list[tuple[float, dict[str, Any]]] = []
        self.refused = False
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, code: int, body: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                now = time.monotonic()
                if self.path.endswith("/logs/batch"):
                    body = json.loads(raw)
                    if body.get("logs"):
                        with lock:
                            outer.batches.append((now, body))
                            first = not outer.refused
                            outer.refused = True
                        if first:
                            self.reply(status, {"error": {"code": "refused", "message": "later"}},
                                       {"Retry-After": str(RETRY_AFTER)})
                            return
                    self.reply(200, {"accepted": len(body.get("logs", [])), "duplicates": 0}, {})
                elif self.command == "POST" and self.path == "/api/v1/runs":
                    self.reply(201, json.loads(raw), {})
                else:
                    self.reply(200, {}, {})

            do_GET = do_POST = do_PATCH = do_PUT = handle_any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def seqs(body: dict[str, Any]) -> list[int]:
    return [x["seq"] for x in body["logs"]]


@pytest.mark.parametrize("status", [429, 503, 507])
def test_run_uploader_waits_at_least_retry_after(tmp_path: Path, status: int) -> None:
    server = RefusingServer(status)
    try:
        code = "for i in range(5): print('line', i)\n"
        _, proc = run_cmd(server.base, [PY, "-c", code], tmp_path)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    finally:
        server.close()
    assert len(server.batches) >= 2, server.batches
    (refused_at, refused), (retried_at, retried) = server.batches[0], server.batches[1]
    assert seqs(retried) == seqs(refused)  # the same lines again, nothing skipped
    assert retried_at - refused_at >= RETRY_AFTER - EPSILON, retried_at - refused_at
    assert [x["message"] for _, b in server.batches[1:] for x in b["logs"]] == \
        [f"line {i}" for i in range(5)]


def test_sync_waits_at_least_retry_after(tmp_path: Path) -> None:
    # Spool a run with no server there (nothing is uploaded), then sync it to the refusing one.
    code = "for i in range(3): print('spooled', i)\n"
    _, proc = run_cmd("http://127.0.0.1:9", [PY, "-c", code], tmp_path,
                      extra=["--exit-timeout", "1"])
    proc.communicate(timeout=60)
    server = RefusingServer(429)
    try:
        out = subprocess.run([str(BINARY), "sync", "--server", server.base, str(tmp_path / "spool")],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
    finally:
        server.close()
    assert len(server.batches) >= 2, server.batches
    assert server.batches[1][0] - server.batches[0][0] >= RETRY_AFTER - EPSILON
    assert [x["message"] for x in server.batches[1][1]["logs"]] == [f"spooled {i}" for i in range(3)]
