"""Test harness of the SDK suite: the REAL server binary (started on a free port with a temporary
data dir; a missing binary fails the test loudly) and the result of a user script run as a real
subprocess. Fixtures are in conftest.py."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[3]
SDK_DIR = REPO / "sdk" / "python"
BINARY = Path(os.environ.get("WANLLMDB_BINARY", str(REPO / "build" / "wanllmdb")))
# Development aid only: WANLLMDB_TEST_STUB=1 runs the suite against tests/fake_server.py.
USE_STUB = os.environ.get("WANLLMDB_TEST_STUB") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process; can be killed and restarted on the same port and data dir."""

    def __init__(self, data_dir: Path, port: Optional[int] = None, extra_args: Optional[List[str]] = None) -> None:
        self.data_dir = data_dir
        self.extra_args = list(extra_args or [])
        self.api_key: Optional[str] = None
        if "--api-key" in self.extra_args:
            self.api_key = self.extra_args[self.extra_args.index("--api-key") + 1]
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: Optional[subprocess.Popen] = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    def start(self) -> None:
        if USE_STUB:
            cmd = [sys.executable, str(Path(__file__).with_name("fake_server.py")), str(self.port)]
        else:
            if not BINARY.exists():
                pytest.fail(f"server binary {BINARY} is missing: build it first (make build)", pytrace=False)
            cmd = [str(BINARY), "server", "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data_dir),
                   *self.extra_args]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        # The server reads WANLLMDB_API_KEY as its default key: only what the test asks for applies.
        env = {k: v for k, v in os.environ.items() if not k.startswith("WANLLMDB_")}
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                if self.get("/health")["status"] == "ok":
                    return
            except (OSError, ValueError):
                time.sleep(0.05)
        pytest.fail("server did not become healthy in 15 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    # ---- API helpers ----

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = "Bearer " + self.api_key
        req = urllib.request.Request(self.url + "/api/v1" + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def status(self, path: str) -> int:
        try:
            self.request("GET", path)
            return 200
        except urllib.error.HTTPError as e:
            return e.code

    def run(self, run_id: str) -> Dict[str, Any]:
        return self.get("/runs/" + run_id)

    def logs(self, run_id: str, **filters: Any) -> List[Dict[str, Any]]:
        """Every stored line of a run (paged), ascending."""
        out: List[Dict[str, Any]] = []
        after = 0
        while True:
            q = dict(filters, limit=10000, after_line=after)
            page = self.get(f"/runs/{run_id}/logs?" + urllib.parse.urlencode(q))
            out += page["logs"]
            if not page["has_more"] or not page["logs"]:
                return out
            after = page["logs"][-1]["line_number"]


class ScriptResult:
    def __init__(self, proc: subprocess.CompletedProcess, spool: Path) -> None:
        self.returncode = proc.returncode
        self.stdout: str = proc.stdout.decode("utf-8", "replace")
        self.stderr: str = proc.stderr.decode("utf-8", "replace")
        self.spool = spool

    def __repr__(self) -> str:
        return f"<rc={self.returncode}\n--stdout--\n{self.stdout[-3000:]}\n--stderr--\n{self.stderr[-3000:]}>"


