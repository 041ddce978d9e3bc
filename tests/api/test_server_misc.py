"""Static web UI, API keys, the CLI (tail, export, --help)."""
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest

from conftest import BINARY, Server


def test_static_files_and_client_routes(make_server: Any, tmp_path: Path) -> None:
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<html>app</html>")
    (web / "assets" / "app.js").write_text("console.log(1)")
    server: Server = make_server(["--web", str(web)]).start()
    r = server.request("GET", "/", api=False)
    assert r.status == 200 and r.body == b"<html>app</html>"
    assert "text/html" in r.headers["content-type"]
    r = server.request("GET", "/runs/abc", api=False)
    assert r.status == 200 and r.body == b"<html>app</html>"  # client route
    r = server.request("GET", "/assets/app.js", api=False)
    assert r.body == b"console.log(1)" and "javascript" in r.headers["content-type"]
    assert "immutable" in r.headers["cache-control"]
    assert server.request("GET", "/assets/missing.js", api=False).status == 404
    assert server.request("GET", "/../../etc/passwd", api=False).status == 404


@pytest.mark.parametrize("key", [None, "s3cret-key"])
def test_static_files_never_leave_the_web_root(make_server: Any, tmp_path: Path,
                                               key: Optional[str]) -> None:
    """Once, `//etc/passwd` and friends returned the file: joining the root with an absolute
    path discarded the root. Nothing outside the canonical web root is ever served."""
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<html>app</html>")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    (web / "assets" / "link.js").symlink_to(secret)  # a link inside the root pointing out
    (tmp_path / "web-other").mkdir()
    (tmp_path / "web-other" / "x.js").write_text("TOP-SECRET")
    data = tmp_path / "data"
    data.mkdir()
    args = ["--web", str(web)] + (["--api-key", key] if key else [])
    server: Server = make_server(args, data_dir=data).start()
    attacks = [
        "//etc/passwd", "/%2Fetc/passwd", "/%2fetc/passwd", "//proc/self/environ",
        f"/{data}/logs.db", f"/{secret}", f"//{secret}", "/assets/link.js",
        "/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt",
        "/..%5csecret.txt", "/../web-other/x.js", "/assets/%00.js",
    ]
    for path in attacks:
        for method in ("GET", "HEAD"):
            r = server.request(method, path, api=False)
            assert b"TOP-SECRET" not in r.body and b"root:" not in r.body, path
            assert b"SQLite format" not in r.body and b"PATH=" not in r.body, path
            assert r.status in (200, 404), (path, r.status)
            if r.status == 200:
                assert r.body in (b"<html>app</html>", b""), path  # a client route at most
    assert server.request("GET", "/assets/link.js", api=False).status == 404


def test_large_static_file_is_streamed_whole(make_server: Any, tmp_path: Path) -> None:
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<html>app</html>")
    big = bytes(range(256)) * 8192  # 2 MiB: over the read-whole limit
    (web / "assets" / "big.js").write_bytes(big)
    server: Server = make_server(["--web", str(web)]).start()
    r = server.request("GET", "/assets/big.js", api=False)
    assert r.status == 200 and r.body == big


def test_no_web_build_says_how(server: Server) -> None:
    r = server.request("GET", "/", api=False)
    assert r.status == 200 and b"make build" in r.body


def test_legacy_api_key(make_server: Any) -> None:
    """--api-key: one admin key outside the store, compared as a hash, only from the header."""
    server: Server = make_server(["--api-key", "s3cret"]).start()
    assert server.get("/health").status == 200  # probes need no key
    r = server.get("/runs")
    assert r.status == 401 and r.json()["error"]["code"] == "unauthorized"
    assert server.request("GET", "/runs", headers={"Authorization": "Bearer nope"}).status == 403
    assert server.request("GET", "/runs", headers={"Authorization": "Bearer s3cret"}).status == 200
    assert server.get("/runs", api_key="s3cret").status == 401  # never in a URL
    assert "visible to every user in 'ps'" in server.log_path.read_text()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=30)


def test_cli_tail_and_export(server: Server, tmp_path: Path) -> None:
    rid = server.new_run()
    server.batch(rid, ["first", "ERROR:root:broken", "last"])
    out = run_cli("tail", rid, "--server", server.base)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and lines[1].endswith("[ERROR] [stdout] ERROR:root:broken")
    out = run_cli("tail", rid, "--server", server.base, "--level", "ERROR", "-n", "5")
    assert len(out.stdout.splitlines()) == 1
    target = tmp_path / "out.csv"
    out = run_cli("export", rid, "--format", "csv", "-o", str(target), "--server", server.base)
    assert out.returncode == 0, out.stderr
    assert target.read_text().splitlines()[0].startswith("line_number,timestamp")
    assert len(target.read_text().splitlines()) == 4
    missing = run_cli("export", "00000000-0000-4000-8000-000000000000", "--server", server.base)
    assert missing.returncode == 1 and "not found" in missing.stderr


def test_cli_tail_follow_streams_new_lines(server: Server) -> None:
    rid = server.new_run()
    server.batch(rid, ["before"])
    proc = subprocess.Popen([str(BINARY), "tail", rid, "--follow", "--server", server.base],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().endswith("before\n")
    server.batch(rid, ["during"])
    assert proc.stdout.readline().endswith("during\n")
    proc.terminate()
    proc.wait(timeout=5)


def test_cli_help() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for cmd in ("server", "tail", "export"):
        assert cmd in out.stdout
    assert "--listen" in run_cli("server", "--help").stdout
    bad = run_cli("server", "--listen", "nonsense")
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr


def test_idle_and_half_open_connections_time_out(make_server: Any) -> None:
    import socket

    server: Server = make_server(["--idle-timeout", "1"]).start()
    silent = socket.create_connection(("127.0.0.1", server.port))
    half = socket.create_connection(("127.0.0.1", server.port))
    half.sendall(b"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    for s in (silent, half):
        # The default idle timeout is far longer than this deadline, so only --idle-timeout 1
        # closes the connections in time; no clock threshold decides it.
        s.settimeout(30)
        assert s.recv(1024) == b""  # closed by the server
    assert server.get("/runs").json()["runs"] == []  # the half request stored nothing


def test_silent_websocket_viewer_is_dropped(make_server: Any) -> None:
    """A viewer that completes the handshake and then never answers a ping (a half-open peer) is
    closed by the server after the idle timeout; the server stays healthy."""
    import base64
    import os
    import socket

    server: Server = make_server(["--idle-timeout", "1"]).start()
    rid = server.new_run()
    s = socket.create_connection(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /api/v1/runs/{rid}/logs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    s.settimeout(30)  # far shorter than the default idle timeout: only --idle-timeout 1 closes it
    received = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break  # the server closed the connection
        received += chunk
    assert b"101 Switching Protocols" in received
    assert server.get("/health").status == 200


def test_threads_are_named_for_their_role(make_server: Any) -> None:
    """`top -H`, perf and gdb show each thread's role; the main thread keeps the program's name,
    which `ps`, `pgrep wanllmdb` and `pkill` go by."""
    server: Server = make_server(["--io-threads", "2", "--workers", "3", "--readers", "2"]).start()
    run = server.new_run()
    server.batch(run, [f"step {i}" for i in range(2000)])
    # A search scans with the shared helpers, which start with the first scan.
    assert server.get(f"/runs/{run}/logs", search="step 1").status == 200
    assert server.proc is not None
    task = Path(f"/proc/{server.proc.pid}/task")

    def names() -> list[str]:
        return sorted((t / "comm").read_text().strip() for t in task.iterdir())

    got = names()
    assert Path(f"/proc/{server.proc.pid}/comm").read_text().strip() == "wanllmdb"
    assert got.count("wl-io") == 1  # the main thread is the other network thread
    assert got.count("wl-worker") == 3
    assert got.count("wl-reader") == 2
    for role in ("wl-store-write", "wl-merge", "wl-scan", "wl-activity", "wl-live"):
        assert role in got, (role, got)
    # Every thread but the main one says what it is.
    assert got.count("wanllmdb") == 1, got
