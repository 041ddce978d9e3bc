"""`wanllmdb admin du|backup|restore` against the real binary and a running server: sizes per
project and run, an online backup taken while a run is being ingested, restored into a new data
directory and served by a new server with identical lines; restore refuses a store in use, an
existing store without --force, and a file that is not a backup."""
from __future__ import annotations

import json
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import BINARY, Server, wait_until


def admin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), "admin", *args], capture_output=True, text=True,
                          timeout=120)


def noise(n: int, tag: str) -> list[str]:
    return [f"{tag} {i} {uuid.uuid4().hex}{uuid.uuid4().hex}" for i in range(n)]


def test_du_lists_projects_and_runs_largest_first(make_server: Any, tmp_path: Path,
                                                  store_args: list[str]) -> None:
    server: Server = make_server().start()
    big, mid, small = server.new_run("p1"), server.new_run("p2"), server.new_run("p1")
    for rid, n in ((big, 600), (mid, 60), (small, 3)):
        assert server.batch(rid, noise(n, rid)).status == 200
    out = admin("du", "--json", "--data", str(tmp_path), *store_args)  # the server keeps running
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [r["id"] for r in report["runs"]] == [big, mid, small]
    assert [r["lines"] for r in report["runs"]] == [600, 60, 3]
    assert all(r["stored_bytes"] > 0 and r["chunks"] >= 1 for r in report["runs"])
    assert all(r["raw_bytes"] > r["lines"] * 60 for r in report["runs"])
    projects = {p["project"]: p for p in report["projects"]}
    assert [p["project"] for p in report["projects"]] == ["p1", "p2"]
    assert projects["p1"]["runs"] == 2 and projects["p1"]["lines"] == 603
    table = admin("du", "--data", str(tmp_path), *store_args)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["PROJECT", "RUNS", "LINES", "RAW", "STORED"]
    assert [ln.split()[0] for ln in lines if ln[:36] in (big, mid, small)] == [big, mid, small]
    assert server.batch(big, ["still ingesting"]).status == 200  # du left the server alone


@pytest.mark.sqlite_only("backup/restore copy the SQLite file; PostgreSQL uses pg_dump")
def test_backup_while_ingesting_restores_identical_lines(make_server: Any,
                                                         tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    server: Server = make_server(data_dir=data).start()
    done = server.new_run("p", name="finished")
    for k in range(4):
        assert server.batch(done, noise(500, f"b{k}"), writer="w", start_seq=k * 500).status == 200
    live = server.new_run("p", name="live")
    stop = threading.Event()
    sent = [0]
    errors: list[str] = []

    def ingest() -> None:  # a run being ingested throughout the backup
        while not stop.is_set():
            r = server.batch(live, noise(200, "live"), writer="w", start_seq=sent[0])
            if r.status != 200:
                errors.append(f"{r.status} {r.body!r}")
                return
            sent[0] += 200

    t = threading.Thread(target=ingest)
    t.start()
    try:
        assert wait_until(lambda: sent[0] >= 1000 or errors, timeout=60)
        at_start = sent[0]
        backup = tmp_path / "backup.db"
        out = admin("backup", str(backup), "--data", str(data))
        assert out.returncode == 0, out.stderr
        assert wait_until(lambda: sent[0] >= at_start + 400 or errors, timeout=60)
    finally:
        stop.set()
        t.join(timeout=60)
    assert not errors, errors
    original_done, original_live = server.all_lines(done), server.all_lines(live)
    assert len(original_live) == sent[0]

    restored_dir = tmp_path / "restored"
    out = admin("restore", str(backup), "--data", str(restored_dir))
    assert out.returncode == 0, out.stderr
    restored: Server = make_server(data_dir=restored_dir).start()
    assert restored.all_lines(done) == original_done
    got = restored.all_lines(live)
    # One consistent moment: a dense prefix of what the live run had by the end, at least what
    # it had when the backup started.
    assert at_start <= len(got) <= len(original_live)
    assert got == original_live[: len(got)]
    assert restored.get(f"/runs/{live}/logs/summary").json()["total"] == len(got)
    # The writer's seq watermark came along: resending everything stores only what is missing.
    r = restored.batch(live, [ln["message"] for ln in original_live], writer="w", start_seq=0)
    assert r.status == 200 and r.json()["duplicates"] == len(got)
    after = restored.all_lines(live)
    assert [ln["message"] for ln in after] == [ln["message"] for ln in original_live]
    assert [ln["line_number"] for ln in after] == list(range(1, len(original_live) + 1))


@pytest.mark.sqlite_only("backup/restore copy the SQLite file; PostgreSQL uses pg_dump")
def test_restore_refuses_a_store_in_use_existing_data_and_non_backups(make_server: Any,
                                                                      tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    server: Server = make_server(data_dir=data).start()
    rid = server.new_run()
    assert server.batch(rid, ["kept"]).status == 200
    backup = tmp_path / "b.db"
    assert admin("backup", str(backup), "--data", str(data)).returncode == 0
    again = admin("backup", str(backup), "--data", str(data))
    assert again.returncode == 1 and "exists" in again.stderr
    busy = admin("restore", str(backup), "--data", str(data), "--force")
    assert busy.returncode == 1 and "stop it first" in busy.stderr
    assert server.batch(rid, ["after backup"]).status == 200
    assert server.stop() == 0
    exists = admin("restore", str(backup), "--data", str(data))
    assert exists.returncode == 1 and "--force" in exists.stderr
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    bad = admin("restore", str(junk), "--data", str(data), "--force")
    assert bad.returncode == 1 and "junk.db" in bad.stderr
    forced = admin("restore", str(backup), "--data", str(data), "--force")
    assert forced.returncode == 0, forced.stderr
    again_server: Server = make_server(data_dir=data).start()
    assert [ln["message"] for ln in again_server.all_lines(rid)] == ["kept"]


def test_postgres_backup_points_to_pg_dump(tmp_path: Path, store_args: list[str]) -> None:
    if not store_args:
        pytest.skip("PostgreSQL only")
    for args in (["backup", str(tmp_path / "x.db")], ["restore", str(tmp_path / "x.db")]):
        out = admin(*args, "--data", str(tmp_path), *store_args)
        assert out.returncode == 2
        assert "pg_dump" in out.stderr
