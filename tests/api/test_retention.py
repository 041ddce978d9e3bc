"""Retention and rotation against the real binary (doc/operations.md "Retention and rotation"):
the policy API and CLI with their checks, and each policy enforced by the background sweep —
max_age (logs only, or the run), max_lines_per_run and max_bytes_per_run (rotation: the oldest
chunks go, the kept lines keep their numbers), max_bytes_per_project (the oldest finished runs
go first). Summaries stay exact after partial removal (by level, source and writer), and the
summary, list, download, WebSocket backlog, `admin check` and export/import all know where the
removed lines were. The sweep runs every 0.1 s here (--retention-interval) and each test waits
for the condition it expects with a generous deadline."""
from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from conftest import BINARY, Server, wait_until

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
SOURCES = ["stdout", "stderr", "sdk", "user", "system"]
FAST = ["--retention-interval", "0.1"]
DEADLINE = 60.0


def admin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), "admin", *args], capture_output=True, text=True,
                          timeout=300)


def store_flags(server: Server, store_args: list[str]) -> list[str]:
    return store_args if store_args else ["--data", str(server.data_dir)]


def line(i: int, writer: str = "main", size: int = 0) -> dict[str, Any]:
    msg = f"{writer} line {i}"
    if size:
        msg = (msg + " " + "x" * size)[:size]
    return {"message": msg, "level": LEVELS[(i * 7) % 5], "source": SOURCES[(i // 3) % 5]}


def fill(server: Server, rid: str, batches: int, per_batch: int = 1000,
         writers: tuple[str, ...] = ("main",), size: int = 0) -> dict[int, tuple[str, str, str, str]]:
    """Appends lines; returns line number → (level, source, writer, message) as stored."""
    stored: dict[int, tuple[str, str, str, str]] = {}
    n = 0
    for b in range(batches):
        writer = writers[b % len(writers)]
        items = [line(n + i, writer, size) for i in range(per_batch)]
        r = server.batch(rid, items, writer=writer)
        assert r.status == 200, r.body
        first = r.json()["first_line"]
        for k, it in enumerate(items):
            stored[first + k] = (it["level"], it["source"], writer, it["message"])
        n += per_batch
    return stored


def expected_summary(stored: dict[int, tuple[str, str, str, str]], first: int) -> dict[str, Any]:
    kept = {k: v for k, v in stored.items() if k >= first}
    levels = Counter(v[0] for v in kept.values())
    sources = Counter(v[1] for v in kept.values())
    writers = Counter(v[2] for v in kept.values())
    return {"total": len(kept), "bytes": sum(len(v[3].encode()) for v in kept.values()),
            "by_level": {lv: levels.get(lv, 0) for lv in LEVELS},
            "by_source": {s: sources.get(s, 0) for s in SOURCES},
            "by_writer": dict(writers)}


def summary(server: Server, rid: str) -> dict[str, Any]:
    r = server.get(f"/runs/{rid}/logs/summary")
    assert r.status == 200, r.body
    return r.json()


def put_policy(server: Server, project: str, body: Any) -> Any:
    r = server.request("PUT", f"/projects/{project}/retention", body)
    assert r.status == 200, r.body
    return r.json()


def assert_exact_after_gap(server: Server, rid: str,
                           stored: dict[int, tuple[str, str, str, str]]) -> dict[str, Any]:
    """The summary counts exactly the kept lines, says what was removed, and every reader starts
    right after the gap with the lines' own numbers."""
    s = summary(server, rid)
    first = s["first_line"]
    assert first > 1
    assert s["removed"]["from_line"] == 1 and s["removed"]["to_line"] == first - 1
    assert s["removed"]["by"] == "retention" and s["removed"]["at"].endswith("Z")
    want = expected_summary(stored, first)
    for k in ("total", "bytes", "by_level", "by_source", "by_writer"):
        assert s[k] == want[k], k
    assert s["last_line"] == max(stored)
    lines = server.all_lines(rid)
    assert [x["line_number"] for x in lines] == list(range(first, max(stored) + 1))
    for x in lines[:50] + lines[-50:]:
        lv, src, writer, msg = stored[x["line_number"]]
        assert (x["level"], x["source"], x["writer"], x["message"]) == (lv, src, writer, msg)
    d = server.get(f"/runs/{rid}/logs/download", format="json")
    assert d.status == 200
    body = d.body.decode()
    numbers = [o["line_number"] for o in (json.loads(x) for x in body.splitlines() if x.strip())] \
        if not body.lstrip().startswith("[") else [o["line_number"] for o in json.loads(body)]
    assert numbers[0] == first and numbers[-1] == max(stored)
    with connect(f"ws://127.0.0.1:{server.port}/api/v1/runs/{rid}/logs/stream?after_line=0",
                 open_timeout=5, max_size=None) as c:
        frame = json.loads(c.recv(timeout=10))
        assert frame["type"] == "logs"
        assert frame["logs"][0]["line_number"] == first
    run = server.get(f"/runs/{rid}").json()
    assert run["removed"] == s["removed"] and run["line_count"] == s["total"]
    return s


# ---- the policy API and CLI ----

def test_policy_api_defaults_to_keeping_everything_and_checks_every_field(
        make_server: Any) -> None:
    server: Server = make_server(["--retention-max-lines-per-run", "5000"]).start()
    server.new_run("p")
    r = server.get("/projects/p/retention")
    assert r.status == 200
    body = r.json()
    assert body["policy"] == {}
    assert body["defaults"]["max_lines_per_run"] == 5000
    assert body["defaults"]["max_age_days"] is None
    assert body["effective"]["max_lines_per_run"] == 5000
    assert body["effective"]["max_bytes_per_project"] is None
    assert server.get("/projects/nope/retention").status == 404
    assert server.request("PUT", "/projects/nope/retention", {}).status == 404

    bad = [
        ({"max_age_days": 0}, "max_age_days"), ({"max_age_days": -1}, "max_age_days"),
        ({"max_age_days": "30"}, "max_age_days"), ({"max_age_days": 1e9}, "max_age_days"),
        ({"max_age_action": "shred"}, "max_age_action"),
        ({"max_lines_per_run": 1.5}, "max_lines_per_run"),
        ({"max_lines_per_run": 0}, "max_lines_per_run"),
        ({"max_lines_per_run": True}, "max_lines_per_run"),
        ({"max_lines_per_run": 10**16}, "max_lines_per_run"),
        ({"max_bytes_per_run": "1G"}, "max_bytes_per_run"),
        ({"max_bytes_per_project": -5}, "max_bytes_per_project"),
        ({"max_lines": 5}, "unknown field 'max_lines'"),
    ]
    for payload, said in bad:
        r = server.request("PUT", "/projects/p/retention", payload)
        assert r.status == 422, (payload, r.body)
        assert said in r.json()["error"]["message"], (payload, r.body)
    assert server.request("PUT", "/projects/p/retention", [1]).status == 400
    assert server.request("PUT", "/projects/p/retention", raw=b"{nope").status == 400
    assert server.get("/projects/p/retention").json()["policy"] == {}  # nothing was stored

    got = put_policy(server, "p", {"max_age_days": 0.5, "max_age_action": "delete_run",
                                   "max_lines_per_run": None, "max_bytes_per_run": 1 << 20})
    assert got["policy"] == {"max_age_days": 0.5, "max_age_action": "delete_run",
                             "max_lines_per_run": None, "max_bytes_per_run": 1 << 20}
    assert got["effective"]["max_lines_per_run"] is None  # null: no limit, whatever the default
    assert got["effective"]["max_bytes_per_project"] is None
    assert got["updated_at"].endswith("Z")
    assert server.get("/projects/p/retention").json() == got
    # PUT replaces: what it leaves out follows the default again.
    got = put_policy(server, "p", {})
    assert got["policy"] == {} and got["effective"]["max_lines_per_run"] == 5000


def test_policy_routes_need_read_to_look_and_admin_to_change(make_server: Any, tmp_path: Path,
                                                             store_args: list[str]) -> None:
    def key(scopes: str) -> str:
        out = subprocess.run([str(BINARY), "keys", "create", "--scopes", scopes, "--name", scopes,
                              "--data", str(tmp_path), *store_args], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    admin_key, read_key, ingest_key = key("admin"), key("read"), key("ingest")
    server: Server = make_server().start()
    server.token = admin_key
    server.new_run("p")
    server.token = read_key
    assert server.get("/projects/p/retention").status == 200
    r = server.request("PUT", "/projects/p/retention", {"max_lines_per_run": 10})
    assert r.status == 403 and "admin" in r.json()["error"]["message"]
    server.token = ingest_key
    assert server.request("PUT", "/projects/p/retention", {"max_lines_per_run": 10}).status == 403
    server.token = None
    assert server.get("/projects/p/retention").status == 401
    server.token = admin_key
    assert server.request("PUT", "/projects/p/retention", {"max_lines_per_run": 10}).status == 200


def test_cli_sets_and_shows_a_policy(server: Server, store_args: list[str]) -> None:
    server.new_run("cli-proj")
    flags = store_flags(server, store_args)
    out = admin("retention", "set", "cli-proj", "--max-age-days", "30", "--max-lines-per-run",
                "1000000", "--max-bytes-per-project", "2G", *flags)
    assert out.returncode == 0, out.stderr
    assert "max_lines_per_run      1000000" in out.stdout
    pol = server.get("/projects/cli-proj/retention").json()["policy"]
    assert pol == {"max_age_days": 30, "max_lines_per_run": 1000000,
                   "max_bytes_per_project": 2 << 30}
    # Only what is given changes; "none" is no limit, "default" follows the server again.
    out = admin("retention", "set", "cli-proj", "--max-age-days", "default",
                "--max-lines-per-run", "none", *flags)
    assert out.returncode == 0, out.stderr
    assert server.get("/projects/cli-proj/retention").json()["policy"] == {
        "max_lines_per_run": None, "max_bytes_per_project": 2 << 30}
    shown = admin("retention", "show", "cli-proj", "--json", *flags)
    assert shown.returncode == 0 and json.loads(shown.stdout)["policy"]["max_lines_per_run"] is None
    for bad in (["--max-age-days", "0"], ["--max-lines-per-run", "1.5"],
                ["--max-bytes-per-run", "lots"], ["--max-age-action", "shred"]):
        out = admin("retention", "set", "cli-proj", *bad, *flags)
        assert out.returncode == 1 and bad[0] in out.stderr, (bad, out.stderr)
    out = admin("retention", "show", "no-such-project", *flags)
    assert out.returncode == 1 and "not found" in out.stderr


def test_server_refuses_bad_retention_flags(tmp_path: Path) -> None:
    for bad in (["--retention-max-bytes-per-run", "lots"], ["--retention-max-age-days", "-1"],
                ["--retention-max-age-action", "shred"], ["--retention-interval", "0"]):
        out = subprocess.run([str(BINARY), "server", "--listen", "127.0.0.1:0", "--data",
                              str(tmp_path), *bad], capture_output=True, text=True, timeout=30)
        assert out.returncode != 0, bad


# ---- the policies, enforced by the sweep ----

def test_rotation_by_lines_keeps_numbers_and_exact_summaries(make_server: Any,
                                                             store_args: list[str]) -> None:
    server: Server = make_server(FAST).start()
    rid = server.new_run("rot")
    # Two writers taking turns: merged chunks then hold both (their lines are decoded to count
    # them off); single-writer chunks are counted from their metadata.
    stored = fill(server, rid, batches=20, per_batch=250, writers=("rank-0", "rank-1"))
    assert summary(server, rid)["removed"] is None
    put_policy(server, "rot", {"max_lines_per_run": 2500})
    assert wait_until(lambda: summary(server, rid)["total"] <= 2500, DEADLINE), summary(server, rid)
    s = assert_exact_after_gap(server, rid, stored)
    assert s["total"] > 2500 - 1000  # whole chunks go: at most one chunk more than needed
    # The counter follows the step's commit: wait for it, before more lines make the sweep
    # rotate again (then it counts those too).
    removed = s["removed"]["to_line"]

    def removed_metric() -> str:
        text = server.request("GET", "/metrics", api=False).body.decode()
        return next((l for l in text.splitlines()
                     if l.startswith("wanllmdb_retention_removed_lines_total ")), "")
    assert wait_until(lambda: removed_metric() == f"wanllmdb_retention_removed_lines_total {removed}",
                      DEADLINE), removed_metric()
    # New lines keep coming after rotation, numbered on.
    more = fill(server, rid, batches=1, per_batch=10)
    assert min(more) == max(stored) + 1
    check = admin("check", *store_flags(server, store_args))
    assert check.returncode == 0, check.stdout + check.stderr
    said = f"retention: run {rid} (project 'rot'): removed lines 1-"
    assert wait_until(lambda: said in server.log_path.read_text(), DEADLINE)
    assert "by max_lines_per_run 2,500" in server.log_path.read_text()


def test_rotation_by_bytes(make_server: Any) -> None:
    server: Server = make_server(FAST).start()
    rid = server.new_run("bytes")
    stored = fill(server, rid, batches=4, per_batch=1000, size=100)
    assert summary(server, rid)["bytes"] == 400_000
    put_policy(server, "bytes", {"max_bytes_per_run": 150_000})
    assert wait_until(lambda: summary(server, rid)["bytes"] <= 150_000, DEADLINE)
    s = assert_exact_after_gap(server, rid, stored)
    assert s["bytes"] > 150_000 - 100_000 - 1


def test_server_default_applies_where_a_project_sets_nothing(make_server: Any) -> None:
    server: Server = make_server([*FAST, "--retention-max-lines-per-run", "1500"]).start()
    ruled = server.new_run("by-default")
    exempt = server.new_run("exempt")
    put_policy(server, "exempt", {"max_lines_per_run": None})
    fill(server, ruled, batches=3)
    fill(server, exempt, batches=3)
    assert wait_until(lambda: summary(server, ruled)["total"] <= 1500, DEADLINE)
    assert summary(server, exempt)["total"] == 3000
    assert summary(server, exempt)["removed"] is None


def test_max_age_removes_logs_of_old_finished_runs_only(make_server: Any) -> None:
    server: Server = make_server(FAST).start()
    old = server.new_run("aged")
    running = server.new_run("aged")
    fill(server, old, batches=3)
    fill(server, running, batches=2)
    assert server.request("PATCH", f"/runs/{old}", {"state": "finished"}).status == 200
    # 0.00002 days = 1.7 s: the finished run qualifies soon; the running one never does.
    put_policy(server, "aged", {"max_age_days": 0.00002})
    assert wait_until(lambda: summary(server, old)["total"] == 0, DEADLINE)
    s = summary(server, old)
    assert s["removed"]["from_line"] == 1 and s["removed"]["to_line"] == 3000
    assert s["by_level"] == {lv: 0 for lv in LEVELS} and s["first_timestamp"] is None
    run = server.get(f"/runs/{old}").json()  # delete_logs (the default): the run stays
    assert run["state"] == "finished" and run["line_count"] == 0 and run["last_line"] == 3000
    assert server.get(f"/runs/{old}/logs").json()["logs"] == []
    assert summary(server, running)["total"] == 2000
    assert summary(server, running)["removed"] is None


def test_max_age_delete_run_removes_the_run(make_server: Any) -> None:
    server: Server = make_server(FAST).start()
    rid = server.new_run("gone")
    keep = server.new_run("gone")
    fill(server, rid, batches=2)
    fill(server, keep, batches=1)
    assert server.request("PATCH", f"/runs/{rid}", {"state": "failed"}).status == 200
    put_policy(server, "gone", {"max_age_days": 0.00002, "max_age_action": "delete_run"})
    assert wait_until(lambda: server.get(f"/runs/{rid}").status == 404, DEADLINE)
    assert summary(server, keep)["total"] == 1000
    # The sweep logs after its delete is committed (and visible): wait for the line too.
    said = f"retention: run {rid} (project 'gone'): deleted the run by max_age"
    assert wait_until(lambda: said in server.log_path.read_text(), DEADLINE)


def test_max_bytes_per_project_takes_the_oldest_finished_runs_first(make_server: Any) -> None:
    server: Server = make_server(FAST).start()
    runs = [server.new_run("capped") for _ in range(4)]
    # 100,000 bytes each, in two chunks of 1,000 lines: full-sized, so a merge cannot join them
    # into one (the sweep removes whole chunks, and one chunk would leave `second` empty).
    for rid in runs:
        fill(server, rid, batches=2, per_batch=1000, size=50)
    for rid in runs[:3]:  # finished in this order; runs[3] keeps running
        assert server.request("PATCH", f"/runs/{rid}", {"state": "finished"}).status == 200
    put_policy(server, "capped", {"max_bytes_per_project": 250_000})

    def project_bytes() -> int:
        return sum(summary(server, rid)["bytes"] for rid in runs)

    assert wait_until(lambda: project_bytes() <= 250_000, DEADLINE), project_bytes()
    oldest, second, newest, live = (summary(server, rid) for rid in runs)
    assert oldest["total"] == 0 and oldest["removed"]["to_line"] == 2000
    assert 0 < second["total"] < 2000 and second["removed"]["from_line"] == 1
    assert newest["total"] == 2000 and newest["removed"] is None
    assert live["total"] == 2000 and live["removed"] is None


@pytest.mark.sqlite_only("takes the per-source counts off SQLite's chunk_counts table directly")
def test_chunks_without_per_source_counts_are_decoded_when_removed(make_server: Any) -> None:
    import sqlite3

    server: Server = make_server(FAST).start()
    rid = server.new_run("legacy")
    stored = fill(server, rid, batches=4)
    server.stop()
    # As a store written before per-source counts existed: no counts beside the chunks.
    db = sqlite3.connect(server.data_dir / "logs.db")
    db.execute("DELETE FROM chunk_counts")
    db.commit()
    db.close()
    server = make_server(FAST).start()
    put_policy(server, "legacy", {"max_lines_per_run": 1500})
    assert wait_until(lambda: summary(server, rid)["total"] <= 1500, DEADLINE)
    assert_exact_after_gap(server, rid, stored)


def test_a_rotated_run_moves_with_its_gap(make_server: Any, tmp_path: Path,
                                          store_args: list[str], request: Any) -> None:
    src: Server = make_server(FAST, data_dir=tmp_path).start()
    rid = src.new_run("moved")
    stored = fill(src, rid, batches=4)
    put_policy(src, "moved", {"max_lines_per_run": 2000})
    assert wait_until(lambda: summary(src, rid)["total"] <= 2000, DEADLINE)
    before = summary(src, rid)
    f = tmp_path / "run.wlrun.gz"
    out = admin("export-run", rid, str(f), "--server", src.base)
    assert out.returncode == 0, out.stderr
    dst_dir = tmp_path / "dst"
    dst_dir.mkdir()
    dst_store = ["--store", request.getfixturevalue("postgres").new_schema()] if store_args else []
    out = admin("import-run", str(f), "--data", str(dst_dir), *dst_store)
    assert out.returncode == 0, out.stderr
    check = admin("check", "--data", str(dst_dir), *dst_store)
    assert check.returncode == 0, check.stdout + check.stderr
    dst = Server(dst_dir, dst_store).start()
    try:
        after = summary(dst, rid)
        for k in ("total", "bytes", "by_level", "by_source", "by_writer", "first_line",
                  "last_line", "removed"):
            assert after[k] == before[k], k
        assert_exact_after_gap(dst, rid, stored)
    finally:
        dst.stop()


def test_check_repair_rebuilds_a_rotated_runs_counters_and_keeps_its_gap(
        make_server: Any, store_args: list[str], request: Any) -> None:
    server: Server = make_server(FAST).start()
    rid = server.new_run("repair")
    stored = fill(server, rid, batches=4)
    put_policy(server, "repair", {"max_lines_per_run": 2000})
    assert wait_until(lambda: summary(server, rid)["total"] <= 2000, DEADLINE)
    before = summary(server, rid)
    server.stop()  # SQLite repairs need the store to themselves
    # Counters knocked off; the chunks (and the removed range) are the truth.
    bad = f"UPDATE runs SET total = 5, first_line = 1, level_counts = '1,1,1,1,1' WHERE id = '{rid}'"
    if store_args:
        request.getfixturevalue("postgres").sql(bad, store_args[1])
    else:
        import sqlite3
        db = sqlite3.connect(server.data_dir / "logs.db")
        db.execute(bad)
        db.commit()
        db.close()
    flags = store_flags(server, store_args)
    check = admin("check", *flags)
    assert check.returncode == 1 and "counter total is 5" in check.stdout, check.stdout
    assert "counter first_line is 1" in check.stdout, check.stdout
    repaired = admin("check", "--repair", *flags)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert admin("check", *flags).returncode == 0
    server = make_server(FAST).start()
    after = assert_exact_after_gap(server, rid, stored)
    assert after["removed"] == before["removed"] and after["first_line"] == before["first_line"]


@pytest.mark.sqlite_only("incremental vacuum is SQLite's; PostgreSQL leaves it to autovacuum")
def test_space_comes_back_to_the_file_system(make_server: Any) -> None:
    import sqlite3

    server: Server = make_server(FAST).start()
    rid = server.new_run("space")
    # Incompressible text, so the chunks take real pages.
    import random
    rng = random.Random(7)
    for b in range(8):
        items = [{"message": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                     for _ in range(300))} for _ in range(1000)]
        assert server.batch(rid, items).status == 200
    db = sqlite3.connect(f"file:{server.data_dir / 'logs.db'}?mode=ro", uri=True)
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # INCREMENTAL: a new store
    pages_before = db.execute("PRAGMA page_count").fetchone()[0]
    put_policy(server, "space", {"max_lines_per_run": 1000})

    def given_back() -> bool:
        return "free pages given back" in server.log_path.read_text() and \
            summary(server, rid)["total"] <= 1000

    assert wait_until(given_back, DEADLINE)
    assert wait_until(lambda: db.execute("PRAGMA freelist_count").fetchone()[0] < 256, DEADLINE)
    line = [x for x in server.log_path.read_text().splitlines() if "retention: sweep done" in x][0]
    assert int(line.split(" free pages given back")[0].split(", ")[-1].replace(",", "")) > 0
    assert db.execute("PRAGMA page_count").fetchone()[0] < pages_before
    db.close()


# ---- admin retention sweep: one sweep now, on a stopped server's store ----

def test_admin_sweep_removes_what_is_due_and_prints_it(make_server: Any, store_args: list[str]) -> None:
    # The server never sweeps by itself here: what is removed is the command's doing.
    server: Server = make_server(["--retention-interval", "1e6"]).start()
    ruled, by_default = server.new_run("swept"), server.new_run("dflt")
    stored = fill(server, ruled, batches=3, per_batch=1000, writers=("rank-0", "rank-1"))
    fill(server, by_default, batches=2)
    put_policy(server, "swept", {"max_lines_per_run": 1000})
    flags = store_flags(server, store_args)
    if not store_args:
        busy = admin("retention", "sweep", *flags)
        assert busy.returncode == 1, busy.stdout + busy.stderr
        assert "stop it first" in busy.stderr and "--retention-interval" in busy.stderr
    assert server.stop() == 0

    out = admin("retention", "sweep", *flags)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"retention: run {ruled} (project 'swept'): removed lines 1-" in out.stdout
    assert "by max_lines_per_run 1,000" in out.stdout
    assert by_default not in out.stdout  # no policy and no default: kept whole
    total_line = out.stdout.strip().splitlines()[-1]
    assert total_line.startswith("retention: removed ") and " lines (" in total_line
    removed = int(total_line.split()[2])
    again = admin("retention", "sweep", *flags)
    assert again.returncode == 0 and "nothing to remove" in again.stdout, again.stdout
    # The server's defaults are given as the server takes them.
    dflt = admin("retention", "sweep", "--retention-max-lines-per-run", "1000", *flags)
    assert dflt.returncode == 0, dflt.stdout + dflt.stderr
    assert f"retention: run {by_default} (project 'dflt'): removed lines 1-" in dflt.stdout
    bad = admin("retention", "sweep", "--retention-max-bytes-per-run", "lots", *flags)
    assert bad.returncode == 1 and "--retention-max-bytes-per-run" in bad.stderr

    server = make_server(["--retention-interval", "1e6"]).start()
    s = assert_exact_after_gap(server, ruled, stored)
    assert s["total"] <= 1000 and s["removed"]["to_line"] == removed
    assert summary(server, by_default)["total"] <= 1000
    check = admin("check", *flags)
    assert check.returncode == 0, check.stdout + check.stderr
