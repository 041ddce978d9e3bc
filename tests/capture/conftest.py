"""Fixtures for the capture tests: the real server (tests/api's Server class) and the real
`wanllmdb run` / `wanllmdb sync` / SDK sidecar, with real child processes."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("WANLLMDB_BINARY", ROOT / "build" / "wanllmdb"))

# tests/api/conftest.py is imported under another name: two modules called "conftest" would clash.
# Its own imports (pg_server) live beside it.
sys.path.insert(0, str(ROOT / "tests" / "api"))
_spec = importlib.util.spec_from_file_location("api_conftest", ROOT / "tests" / "api" / "conftest.py")
assert _spec is not None and _spec.loader is not None
api_conftest = importlib.util.module_from_spec(_spec)
sys.modules["api_conftest"] = api_conftest
_spec.loader.exec_module(api_conftest)
Server = api_conftest.Server
wait_until = api_conftest.wait_until


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    s = Server(tmp_path).start()
    yield s
    if s.proc and s.proc.poll() is None:
        s.stop()


def without_unbuffered() -> dict[str, str]:
    """The environment without PYTHONUNBUFFERED (test runners set it): scripts must buffer their
    output as they do for users, or a test could pass only because every print is a write."""
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    return env


def run_cmd(server_base: str, command: list[str], tmp_path: Path, run_id: Optional[str] = None,
            extra: Optional[list[str]] = None, **popen: Any) -> tuple[str, subprocess.Popen[bytes]]:
    """Starts `wanllmdb run -- command`; returns (run id, process). `env` in popen replaces the
    base environment (the spool settings are added to it)."""
    run_id = run_id or str(uuid.uuid4())
    base_env = popen.pop("env", None) or without_unbuffered()
    env = {**base_env, "WANLLMDB_DIR": str(tmp_path / "spool"), "WANLLMDB_EXIT_TIMEOUT": "20"}
    args = [str(BINARY), "run", "--server", server_base, "--project", "capture", "--id", run_id,
            *(extra or []), "--", *command]
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return run_id, subprocess.Popen(args, env=env, **popen)


def messages(server: Any, run_id: str, **filters: Any) -> list[str]:
    return [line["message"] for line in server.all_lines(run_id, **filters)]


def messages_soon(server: Any, run_id: str) -> list[str]:
    """messages(), or [] while the run does not exist yet (for polling)."""
    if server.get(f"/runs/{run_id}").status != 200:
        return []
    return messages(server, run_id)
