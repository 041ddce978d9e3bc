"""`wanllmdb sync` uploads the Python SDK's offline spool too (one spool format for both)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from conftest import BINARY, ROOT, without_unbuffered, Server, messages


def test_sync_uploads_python_offline_spool_exactly_once(server: Server, tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    env = {**without_unbuffered(), "PYTHONPATH": str(ROOT / "sdk" / "python"), "WANLLMDB_MODE": "offline",
           "WANLLMDB_DIR": str(tmp_path / "spool"), "WANLLMDB_BIN": str(BINARY)}
    script = ("import logging, sys, wanllmdb\n"
              f"run = wanllmdb.init(project='offline', name='off', id='{run_id}')\n"
              "for i in range(2500): print('offline', i)\n"
              "logging.basicConfig()\n"
              "logging.getLogger().error('an error')\n"
              "print('ünïcode \\x1b[32mgreen\\x1b[0m')\n"
              "sys.exit(4)\n")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60)
    assert proc.returncode == 4, proc.stderr[-2000:]
    run_dir = tmp_path / "spool" / run_id
    assert (run_dir / "run.json").exists()
    for _ in range(2):  # the second sync finds everything acknowledged
        sync = subprocess.run([str(BINARY), "sync", "--server", server.base, str(tmp_path / "spool")],
                              capture_output=True, timeout=60)
        assert sync.returncode == 0, sync.stderr
    lines = server.all_lines(run_id)
    assert [l["message"] for l in lines[:2500]] == [f"offline {i}" for i in range(2500)]
    assert [(l["message"], l["level"], l["source"]) for l in lines[2500:]] == [
        ("ERROR:root:an error", "ERROR", "user"), ("ünïcode \x1b[32mgreen\x1b[0m", "INFO", "stdout")]
    run = server.get(f"/runs/{run_id}").json()
    final = json.loads((run_dir / "final.json").read_text())
    assert (run["project"], run["name"], run["state"]) == ("offline", "off", final["state"])
    assert final["applied"] is True
