"""`wanllmdb admin check [--repair]` against the real binary: a healthy store (also beside a
running server) has no problems; a store corrupted on purpose with SQL (a broken counter, wrong
chunk metadata, an overlapping range, a garbled payload, an orphan) is reported line by line
without being changed, and `--repair` rebuilds what can be rebuilt from the chunks so the server
serves the original summary again."""
from __future__ import annotations

import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import BINARY, Server

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
SOURCES = ["stdout", "stderr", "sdk", "user", "system"]


def admin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), "admin", *args], capture_output=True, text=True,
                          timeout=300)


def mixed(n: int, tag: str) -> list[dict[str, Any]]:
    return [{"message": f"{tag} line {i} " + "x" * (i % 7), "level": LEVELS[i % 5],
             "source": SOURCES[(i // 5) % 5], "timestamp": f"2026-12-01T10:00:{i % 60:02d}.{i:06d}Z"}
            for i in range(n)]


def fill(server: Server, rid: str, batches: int, per: int) -> None:
    for k in range(batches):
        writer = "rank-0" if k % 2 == 0 else "rank-1"
        assert server.batch(rid, mixed(per, f"{rid[:8]} b{k}"), writer=writer).status == 200


def sql_runner(tmp_path: Path, store_args: list[str], request: Any) -> Callable[[str], str]:
    """Runs SQL on the test's store: sqlite3 on DATA/logs.db, or psql on the PostgreSQL schema."""
    if not store_args:
        def run_sqlite(query: str) -> str:
            db = sqlite3.connect(tmp_path / "logs.db")
            try:
                rows = db.execute(query).fetchall()
                db.commit()
            finally:
                db.close()
            return "\n".join("|".join(str(v) for v in row) for row in rows)
        return run_sqlite
    pg = request.getfixturevalue("postgres")
    return lambda query: pg.sql(query, store_args[1])


def dump(sql: Callable[[str], str]) -> str:
    """Everything check could change, as text."""
    return "\n".join(sql(q) for q in (
        "SELECT id, next_line, first_line, total, bytes, level_counts, source_counts, first_ts, "
        "last_ts FROM runs ORDER BY id",
        "SELECT run_id, writer, writer_id, max_seq, lines FROM run_writers ORDER BY run_id, writer",
        "SELECT run_id, first_line, last_line, n_lines, ts_min, ts_max, level_mask, level_counts, "
        "source_mask, writer_mask, raw_bytes, length(payload) FROM log_chunks "
        "ORDER BY run_id, first_line"))


def test_healthy_store_has_no_problems_also_beside_a_running_server(
        make_server: Any, tmp_path: Path, store_args: list[str]) -> None:
    server: Server = make_server().start()
    rid = server.new_run()
    fill(server, rid, 6, 300)
    server.new_run()  # no lines at all
    cleared = server.new_run()
    fill(server, cleared, 2, 10)
    assert server.request("DELETE", f"/runs/{cleared}/logs").status in (200, 204)
    fill(server, cleared, 1, 5)  # numbering goes on after a clear: lines 21-25
    out = admin("check", "--data", str(tmp_path), *store_args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.fullmatch(r"checked 3 runs, \d+ chunks, 1805 lines: no problems\n", out.stdout)
    assert server.batch(rid, ["still ingesting"]).status == 200  # the server was left alone


def test_check_reports_corruption_and_repair_rebuilds_counters(
        make_server: Any, tmp_path: Path, store_args: list[str], request: Any) -> None:
    server: Server = make_server().start()
    counted, overlapped, garbled = server.new_run(), server.new_run(), server.new_run()
    # Batches of 1,000 lines are whole chunks the merger never joins: chunks 1-1000, 1001-2000…
    for rid in (counted, overlapped, garbled):
        fill(server, rid, 4, 1000)
    summary = server.get(f"/runs/{counted}/logs/summary").json()
    lines = server.all_lines(counted)
    assert server.stop() == 0
    sql = sql_runner(tmp_path, store_args, request)
    assert sql(f"SELECT first_line, last_line FROM log_chunks WHERE run_id = '{counted}' "
               f"ORDER BY first_line").split() == ["1|1000", "1001|2000", "2001|3000", "3001|4000"]
    out = admin("check", "--data", str(tmp_path), *store_args)
    assert out.returncode == 0, out.stdout + out.stderr

    # Break it: counters and a chunk's metadata of one run, a range of another, a payload of a
    # third, and a writer row of a run that does not exist.
    sql(f"UPDATE runs SET total = total - 7, bytes = 3, level_counts = '1,2,3,4,5', "
        f"first_ts = 17 WHERE id = '{counted}'")
    sql(f"UPDATE run_writers SET lines = 1 WHERE run_id = '{counted}' AND writer = 'rank-1'")
    sql(f"UPDATE log_chunks SET raw_bytes = 5, level_mask = 1 WHERE run_id = '{counted}' "
        f"AND first_line = 1001")
    sql(f"UPDATE log_chunks SET last_line = 1001 WHERE run_id = '{overlapped}' "
        f"AND first_line = 1")
    garbage = "X'00112233445566778899'" if not store_args else "'\\x00112233445566778899'::bytea"
    sql(f"UPDATE log_chunks SET payload = {garbage} WHERE run_id = '{garbled}' "
        f"AND first_line = 2001")
    orphan = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    sql(f"INSERT INTO run_writers(run_id, writer, writer_id, max_seq, lines) "
        f"VALUES ('{orphan}', 'main', 0, 3, 4)")
    before = dump(sql)

    out = admin("check", "--data", str(tmp_path), *store_args)
    assert out.returncode == 1, out.stdout + out.stderr
    report = out.stdout.splitlines()
    mine = [ln.removeprefix(f"run {counted}: ") for ln in report
            if ln.startswith(f"run {counted}: ")]
    message_bytes = sum(len(ln["message"].encode()) for ln in lines)
    assert "counter total is 3993, the chunks give 4000" in mine
    assert f"counter bytes is 3, the chunks give {message_bytes}" in mine
    assert "counter level_counts is 1,2,3,4,5, the chunks give 800,800,800,800,800" in mine
    assert any(ln.startswith("counter first_ts is 17, the chunks give ") for ln in mine)
    assert "writer 'rank-1': line count is 1, the chunks hold 2000" in mine
    assert any(ln.startswith("chunk 1001-2000 metadata: ") and "raw_bytes 5 (its lines: " in ln
               and "level_mask 1 (its lines: 31)" in ln for ln in mine), mine
    assert len(mine) == 6, mine
    assert f"run {overlapped}: lines 1001-1001 are in two chunks (1-1001 and 1001-2000)" in report
    assert f"run {overlapped}: chunk 1-1001: holds 1000 lines, its key range 1001" in report
    bad = [ln for ln in report if ln.startswith(f"run {garbled}: ")]
    assert len(bad) == 1 and bad[0].startswith(
        f"run {garbled}: chunk 2001-3000: payload does not decode"), bad
    assert any(ln.startswith(f"run {orphan}: no such run") for ln in report)
    assert len(report) == 11, report
    assert report[-1] == ("checked 3 runs, 12 chunks, 11000 lines: 10 problems, "
                          "6 of them repairable with --repair")
    assert dump(sql) == before  # check alone changes nothing

    out = admin("check", "--repair", "--data", str(tmp_path), *store_args)
    assert out.returncode == 1, out.stdout + out.stderr  # the overlap, garble, orphan remain
    assert f"run {counted}: repaired 6 problems (rebuilt from its chunks)" in out.stdout
    assert out.stdout.splitlines()[-1] == ("checked 3 runs, 12 chunks, 11000 lines: 10 problems, "
                                           "6 repaired, 4 left")
    again = admin("check", "--run", counted, "--data", str(tmp_path), *store_args)
    assert again.returncode == 0, again.stdout
    assert again.stdout == "checked 1 runs, 4 chunks, 4000 lines: no problems\n"

    restarted: Server = make_server().start()
    assert restarted.get(f"/runs/{counted}/logs/summary").json() == summary
    assert restarted.all_lines(counted) == lines
    assert restarted.all_lines(counted, level="WARNING") == [
        ln for ln in lines if ln["level"] == "WARNING"]  # the chunk's level mask is right again
    r = restarted.batch(counted, ["after the repair"])
    assert r.status == 200 and r.json()["first_line"] == 4001


@pytest.mark.sqlite_only("PostgreSQL repairs beside running nodes (the run's row is locked)")
def test_repair_refuses_while_a_server_uses_the_sqlite_store(make_server: Any,
                                                             tmp_path: Path) -> None:
    server: Server = make_server().start()
    rid = server.new_run()
    fill(server, rid, 1, 10)
    out = admin("check", "--repair", "--data", str(tmp_path))
    assert out.returncode == 1
    assert "stop it first" in out.stderr and "without --repair" in out.stderr
    assert admin("check", "--data", str(tmp_path)).returncode == 0
    assert server.batch(rid, ["more"]).status == 200
