"""Fixtures of the SDK suite (the harness itself is in sdk_harness.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

import pytest

from sdk_harness import SDK_DIR, ScriptResult, Server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("server") / "data")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Server]:
    """A server only this test uses (it may kill and restart it)."""
    srv = Server(tmp_path / "own-server-data")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def run_script(tmp_path: Path) -> Callable[..., ScriptResult]:
    """run_script(code, server=..., env=..., timeout=...) runs `code` in a fresh interpreter."""

    def _run(code: str, server: Optional[Server] = None, env: Optional[Dict[str, str]] = None,
             timeout: float = 120, name: str = "script.py") -> ScriptResult:
        script = tmp_path / name
        script.write_text(textwrap.dedent(code))
        spool = tmp_path / "spool"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("WANLLMDB_") and k != "RANK"}
        full_env.update({"PYTHONPATH": str(SDK_DIR), "WANLLMDB_DIR": str(spool), "PYTHONUNBUFFERED": ""})
        full_env.pop("PYTHONUNBUFFERED")
        if server is not None:
            full_env["WANLLMDB_BASE_URL"] = server.url
        full_env.update(env or {})
        proc = subprocess.run([sys.executable, str(script)], env=full_env, cwd=str(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return ScriptResult(proc, spool)

    return _run
