"""Fixtures for the API tests: the real `wanllmdb` binary on a free port with a temporary data
directory, spoken to over real HTTP and WebSocket."""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

# Loaded by other suites' conftests too (tests/capture): find the sibling module from here.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg_server import PgServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("WANLLMDB_BINARY", ROOT / "build" / "wanllmdb"))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Server:
    """A running server process and a tiny HTTP client for it."""

    def __init__(self, data_dir: Path, extra_args: Optional[list[str]] = None) -> None:
        self.data_dir = data_dir
        self.extra_args = extra_args or []
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.port = 0
        self.log_path = data_dir / "server.log"
        self.token: Optional[str] = None  # sent as a Bearer key unless headers say otherwise

    def start(self, port: int = 0) -> "Server":
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: run `make build` first")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(BINARY), "server", "--listen", f"127.0.0.1:{port}", "--data", str(self.data_dir),
             *self.extra_args],
            stdout=subprocess.PIPE, stderr=self.log)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on port "):
            raise RuntimeError(f"server did not start: {line!r}; see {self.log_path}")
        self.port = int(line.split()[-1])
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        self.log.close()
        return code

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.log.close()

    def request(self, method: str, path: str, body: Any = None, raw: Optional[bytes] = None,
                headers: Optional[dict[str, str]] = None, timeout: float = 60,
                api: bool = True) -> Reply:
        """`path` is under /api/v1 unless api=False (static files)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Content-Type": "application/json"} if data is not None else {}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        conn.request(method, ("/api/v1" if api else "") + path, body=data, headers=h)
        resp = conn.getresponse()
        reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        conn.close()
        return reply

    def get(self, path: str, **params: Any) -> Reply:
        q = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return self.request("GET", path + ("?" + q if q else ""))

    def post(self, path: str, body: Any) -> Reply:
        return self.request("POST", path, body)

    def new_run(self, project: str = "proj", **fields: Any) -> str:
        r = self.post("/runs", {"project": project, **fields})
        assert r.status == 201, r.body
        return r.json()["id"]

    def batch(self, run_id: str, messages: list[Any], writer: Optional[str] = None,
              start_seq: Optional[int] = None) -> Reply:
        logs = []
        for i, m in enumerate(messages):
            item = m if isinstance(m, dict) else {"message": m}
            if start_seq is not None:
                item = {**item, "seq": start_seq + i}
            logs.append(item)
        body: dict[str, Any] = {"logs": logs}
        if writer:
            body["writer"] = writer
        return self.post(f"/runs/{run_id}/logs/batch", body)

    def all_lines(self, run_id: str, **filters: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after = None
        while True:
            r = self.get(f"/runs/{run_id}/logs", limit=10000, after_line=after, **filters)
            assert r.status == 200, r.body
            page = r.json()
            out += page["logs"]
            if not page["has_more"]:
                return out
            after = page["logs"][-1]["line_number"]


def _stores() -> list[str]:
    """Both stores by default; WANLLMDB_TEST_STORES=sqlite (or postgresql) narrows the run."""
    wanted = os.environ.get("WANLLMDB_TEST_STORES", "sqlite,postgresql")
    return [s for s in ("sqlite", "postgresql") if s in wanted.split(",")]


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): not run against PostgreSQL")
    # scripts/run-tests.sh runs the suite on two pytest-xdist workers, then these alone: they
    # stop the shared PostgreSQL or cut every node's connections to it, which other tests
    # running at that moment would see as faults of their own.
    config.addinivalue_line("markers", "serial: stops or disconnects the shared PostgreSQL")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    pg = PgServer.start()
    yield pg
    pg.close()


@pytest.fixture(params=_stores())
def store_args(request: Any) -> list[str]:
    """Every API test runs against both stores: SQLite in the data directory, or a fresh
    schema of the session's PostgreSQL (shared by every server the test starts)."""
    if request.param == "sqlite":
        return []
    only = request.node.get_closest_marker("sqlite_only")
    if only is not None:
        pytest.skip(f"SQLite only: {only.args[0]}")
    pg: PgServer = request.getfixturevalue("postgres")
    return ["--store", pg.new_schema()]


@pytest.fixture
def server(tmp_path: Path, store_args: list[str]) -> Iterator[Server]:
    s = Server(tmp_path, store_args).start()
    yield s
    if s.proc and s.proc.poll() is None:
        assert s.stop() == 0


@pytest.fixture
def make_server(tmp_path: Path, store_args: list[str]) -> Iterator[Any]:
    """For tests that restart, kill or configure the server themselves."""
    started: list[Server] = []

    def make(extra_args: Optional[list[str]] = None, data_dir: Optional[Path] = None) -> Server:
        s = Server(data_dir or tmp_path, [*store_args, *(extra_args or [])])
        started.append(s)
        return s

    yield make
    for s in started:
        if s.proc and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.02) -> Any:
    """Polls `predicate` until it is truthy or `timeout` has passed, and returns its last value.
    The default deadline is generous (a busy CI machine): passing tests return at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@contextlib.contextmanager
def mounted_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "6m") mounted at `where`, for disk-full tests; skips the test where
    mounting is not permitted."""
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); needs root or CAP_SYS_ADMIN")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
