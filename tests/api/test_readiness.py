"""Liveness and readiness against the real binary: GET /api/v1/health answers while the process
lives; GET /api/v1/ready answers 503 with a reason while the store is unreachable (PostgreSQL
stopped) or free disk is below --min-free-disk, and ingest answers 507 then (reads keep working)
and resumes by itself once space is freed."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import BINARY, Server, mounted_tmpfs, wait_until
from pg_server import SCRIPT as PG_SCRIPT


def test_health_and_ready_answer(server: Server) -> None:
    r = server.get("/health")
    assert r.status == 200 and r.json()["status"] == "ok"
    r = server.get("/ready")
    assert r.status == 200, r.body
    assert r.json()["status"] == "ready"


@pytest.mark.sqlite_only("the free-disk limit watches the SQLite store's file system")
def test_below_min_free_disk_ingest_is_507_reads_work(make_server: Any) -> None:
    # A limit above any real free space: no mount needed.
    server: Server = make_server(["--min-free-disk", "100%"]).start()
    rid = server.new_run()  # creating a run is not ingest: a few bytes, still allowed
    r = server.batch(rid, ["refused"])
    assert r.status == 507, r.body
    err = r.json()["error"]
    assert err["code"] == "insufficient_storage"
    assert "--min-free-disk" in err["message"] and "resumes" in err["message"]
    assert int(r.headers["retry-after"]) > 0
    assert server.post(f"/runs/{rid}/logs", {"message": "refused too"}).status == 507
    ready = server.get("/ready")
    assert ready.status == 503
    assert "disk" in ready.json()["error"]["message"]
    assert server.get("/health").status == 200  # alive, just not ready
    assert server.get(f"/runs/{rid}").status == 200
    assert server.all_lines(rid) == []  # nothing of a refused batch was stored


@pytest.mark.parametrize("bad", ["12X", "-1G", "101%", "G", "1e99G"])
def test_bad_min_free_disk_is_refused_at_start(tmp_path: Path, bad: str) -> None:
    out = subprocess.run([str(BINARY), "server", "--listen", "127.0.0.1:0", "--data",
                          str(tmp_path), "--min-free-disk", bad],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "--min-free-disk" in out.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path / "small", "48m") as mnt:
        yield mnt


@pytest.mark.sqlite_only("the data directory is the small disk; PostgreSQL keeps its own")
def test_min_free_disk_refuses_early_and_recovers(make_server: Any, small_disk: Path) -> None:
    server: Server = make_server(["--min-free-disk", "16M"], data_dir=small_disk).start()
    rid = server.new_run()
    assert server.batch(rid, ["before"]).status == 200
    assert server.get("/ready").status == 200
    # Leave 8 MiB free: below the limit, far from full.
    free = shutil.disk_usage(small_disk).free
    filler = small_disk / "filler"
    with open(filler, "wb") as f:
        f.truncate(0)
        f.write(b"\0" * (free - 8 * 1024 * 1024))
    assert shutil.disk_usage(small_disk).free > 4 * 1024 * 1024  # really not full
    accepted = []  # the free space is read at most once a second: a few may still pass

    def refused() -> bool:
        r = server.batch(rid, ["while low"])
        if r.status == 200:
            accepted.append(r)
        return r.status == 507

    assert wait_until(refused, timeout=30)
    assert server.get("/ready").status == 503
    stored = ["before"] + ["while low"] * len(accepted)
    assert [line["message"] for line in server.all_lines(rid)] == stored
    filler.unlink()
    assert wait_until(lambda: server.batch(rid, ["after"]).status == 200, timeout=30)
    assert wait_until(lambda: server.get("/ready").status == 200, timeout=30)
    assert [line["message"] for line in server.all_lines(rid)] == stored + ["after"]


@pytest.fixture
def own_postgres() -> Iterator[tuple[Path, str]]:
    """A PostgreSQL of this test alone: it is stopped and started again mid-test."""
    if not PG_SCRIPT.exists() or not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        pytest.skip("PostgreSQL 15 is not installed (scripts/install-deps.sh test)")
    directory = Path(tempfile.mkdtemp(prefix="wanllmdb-pg-ready-"))
    out = subprocess.run([str(PG_SCRIPT), "start", str(directory)], check=True,
                         capture_output=True, text=True, timeout=180)
    try:
        yield directory, out.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(PG_SCRIPT), "stop", str(directory)], check=False, timeout=120)
        shutil.rmtree(directory, ignore_errors=True)


def test_not_ready_while_postgres_is_down(tmp_path: Path, own_postgres: tuple[Path, str]) -> None:
    pg_dir, conninfo = own_postgres
    server = Server(tmp_path, ["--store", conninfo]).start()
    try:
        rid = server.new_run()
        assert server.batch(rid, ["up"]).status == 200
        assert server.get("/ready").status == 200
        subprocess.run([str(PG_SCRIPT), "stop", str(pg_dir)], check=True, timeout=120)
        assert wait_until(lambda: server.get("/ready").status == 503, timeout=60)
        r = server.get("/ready")
        assert "store" in r.json()["error"]["message"]
        assert server.get("/health").status == 200  # the process itself is fine
        subprocess.run([str(PG_SCRIPT), "restart", str(pg_dir)], check=True, timeout=120)
        assert wait_until(lambda: server.get("/ready").status == 200, timeout=60)
        assert wait_until(lambda: server.batch(rid, ["back"]).status == 200, timeout=60)
        assert [line["message"] for line in server.all_lines(rid)] == ["up", "back"]
    finally:
        server.stop()
