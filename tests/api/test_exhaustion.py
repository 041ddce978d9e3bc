"""Resource exhaustion against the real binary: oversized WebSocket frames, huge bodies on every
worker, connection floods and running out of file descriptors. The server answers, logs a
bounded amount and keeps its memory bounded (issue 8: RSS ≤ 256 MiB after all of it)."""
import http.client
import json
import resource
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import BINARY, Server, wait_until


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def post_raw(port: int, path: str, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    status = conn.getresponse().status
    conn.close()
    return status


def test_memory_stays_bounded_under_big_frames_and_bodies(server: Server) -> None:
    assert server.proc is not None
    rid = server.new_run()
    url = f"ws://127.0.0.1:{server.port}/api/v1/runs/{rid}/logs/stream"
    # 40 viewers each send a 4 MiB message: a viewer only ever sends tiny control messages, so
    # each is closed (1009, too big; or reset while still sending) instead of the server
    # buffering 160 MiB.
    codes: list[Any] = []
    for _ in range(40):
        with connect(url, open_timeout=10, max_size=None) as c:
            c.recv(timeout=10)  # the backlog frame
            try:
                c.send("x" * (4 << 20))
                c.recv(timeout=30)
            except ConnectionClosed as e:
                codes.append(e.rcvd.code if e.rcvd else None)
            except (ValueError, OSError):
                # The server closed while the client was still sending: the websockets client
                # can trip over its own close handling ("generator already executing").
                codes.append(None)
    assert len(codes) == 40 and set(codes) <= {1009, None} and 1009 in codes
    # Huge bodies on many workers at once: each worker's JSON parser must give the memory back.
    message = "y" * 1200
    body = json.dumps({"logs": [{"message": message} for _ in range(10000)]}).encode()
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(
        post_raw(server.port, f"/api/v1/runs/{rid}/logs/batch", body))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 8
    assert server.get("/health").status == 200
    assert rss_mib(server.proc.pid) <= 256


def test_connection_limits_answer_503(make_server: Any) -> None:
    server: Server = make_server(["--max-connections-per-client", "20"]).start()
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
    try:
        # The 21st connection from this address is answered 503 and closed.
        extra = socket.create_connection(("127.0.0.1", server.port))
        extra.settimeout(10)
        reply = b""
        while chunk := extra.recv(4096):
            reply += chunk
        extra.close()
        assert reply.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in reply
    finally:
        for s in held:
            s.close()
    # Places come back when connections close.
    assert wait_until(lambda: server.request("GET", "/runs").status == 200, timeout=30)


def test_out_of_file_descriptors_backs_off_and_recovers(tmp_path: Path) -> None:
    """Once, EMFILE made the listener retry accept in a busy loop, logging every failure (1.2M
    lines in 2 s). Now it backs off, logs once per interval, and serves again afterwards."""
    def low_fd_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(BINARY), "server", "--listen", "127.0.0.1:0", "--data",
                                 str(tmp_path), "--no-access-log"],
                                stdout=subprocess.PIPE, stderr=log, preexec_fn=low_fd_limit)
        try:
            assert proc.stdout is not None
            port = int(proc.stdout.readline().decode().split()[-1])
            held = []
            for _ in range(120):  # far more than the server has descriptors for
                held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            assert wait_until(lambda: "Too many open files" in log_path.read_text(), timeout=30)
            # Time passes while the descriptors stay exhausted: the log must not flood.
            assert not wait_until(lambda: log_path.read_text().count("\n") > 100, timeout=3)
            for s in held:
                s.close()
            conn_ok = wait_until(lambda: _health(port), timeout=60)
            assert conn_ok
            assert log_path.read_text().count("accept:") <= 20
        finally:
            proc.kill()
            proc.wait()


def _health(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/v1/health")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False
