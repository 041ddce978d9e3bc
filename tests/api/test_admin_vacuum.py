"""`wanllmdb admin vacuum` against the real binary: a store made before incremental vacuum
(auto_vacuum=NONE: a store the binary created, converted back with Python's sqlite3 as an old
release left it) gets a one-time warning at server start naming the command; the command
refuses while the server runs, then rewrites the store compacted with auto_vacuum=INCREMENTAL,
printing progress and the size before and after; every line is intact and a deleted run's
pages are given back. PostgreSQL: the command says what to run instead and exits 2."""
from __future__ import annotations

import random
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import BINARY, Server

WARNING = "has auto_vacuum=NONE"


def admin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), "admin", *args], capture_output=True, text=True,
                          timeout=300)


def pragma(db_path: Path, name: str) -> int:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return int(db.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        db.close()


def incompressible(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(200))
            for _ in range(n)]


@pytest.mark.sqlite_only("auto_vacuum is SQLite's; PostgreSQL is the next test")
def test_vacuum_converts_an_old_store_and_gives_space_back(make_server: Any,
                                                           tmp_path: Path) -> None:
    db_path = tmp_path / "logs.db"
    server: Server = make_server().start()
    rng = random.Random(3)
    kept, dropped = server.new_run("p", name="kept"), server.new_run("p", name="dropped")
    for k in range(3):
        assert server.batch(kept, incompressible(rng, 1000), writer="w", start_seq=k * 1000).status == 200
    assert server.stop() == 0
    assert pragma(db_path, "auto_vacuum") == 2  # what a new store gets
    # What an old release left behind: the same store with auto_vacuum=NONE.
    old = sqlite3.connect(db_path)
    old.execute("PRAGMA auto_vacuum=NONE")
    old.execute("VACUUM")
    old.close()
    assert pragma(db_path, "auto_vacuum") == 0

    server = make_server().start()
    log = server.log_path.read_text()
    assert log.count(WARNING) == 1, log
    assert f"wanllmdb admin vacuum --data {tmp_path}" in log
    for k in range(4):  # a run whose pages become free when it is deleted
        assert server.batch(dropped, incompressible(rng, 1000), writer="w", start_seq=k * 1000).status == 200
    assert server.request("DELETE", f"/runs/{dropped}").status in (200, 204)
    before = [(x["line_number"], x["message"]) for x in server.all_lines(kept)]
    refused = admin("vacuum", "--data", str(tmp_path))  # the server still runs
    assert refused.returncode == 1 and "stop it first" in refused.stderr, refused.stderr
    assert server.stop() == 0
    size_before = db_path.stat().st_size + (tmp_path / "logs.db-wal").stat().st_size \
        if (tmp_path / "logs.db-wal").exists() else db_path.stat().st_size
    assert pragma(db_path, "freelist_count") > 0  # NONE: the deleted run's pages stay in the file

    out = admin("vacuum", "--data", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "auto_vacuum=NONE -> INCREMENTAL" in out.stdout
    assert "written " in out.stdout and "(100%)" in out.stdout  # progress, the last at the end
    assert "size before:" in out.stdout and "size after:" in out.stdout
    assert pragma(db_path, "auto_vacuum") == 2
    assert pragma(db_path, "freelist_count") == 0
    assert db_path.stat().st_size < size_before
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()

    server = make_server().start()
    assert [(x["line_number"], x["message"]) for x in server.all_lines(kept)] == before
    assert server.get(f"/runs/{dropped}").status == 404
    assert server.batch(kept, ["after the vacuum"], writer="w", start_seq=3000).status == 200
    assert server.log_path.read_text().count(WARNING) == 1  # only the old start warned
    check = admin("check", "--data", str(tmp_path))  # beside the running server
    assert check.returncode == 0, check.stdout + check.stderr


def test_vacuum_on_postgresql_says_what_to_do_instead(store_args: list[str], tmp_path: Path) -> None:
    if not store_args:
        pytest.skip("the PostgreSQL message; SQLite is the test above")
    out = admin("vacuum", *store_args)
    assert out.returncode == 2
    assert "PostgreSQL" in out.stderr and "VACUUM (FULL" in out.stderr and "autovacuum" in out.stderr
