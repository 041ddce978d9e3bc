"""`wanllmdb admin export-run` / `import-run` against the real binary: a run exported from one
running server over the API (with a read key) and imported into another server's store holds
every line field and the run's metadata as they were; import refuses an id that exists and a
damaged file, and stores nothing then."""
from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path
from typing import Any

from conftest import BINARY, Server

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
SOURCES = ["stdout", "stderr", "sdk", "user", "system"]


def admin(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), "admin", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def lines_for(writer: str, n: int) -> list[dict[str, Any]]:
    return [{"message": f"{writer} {i} \x1b[31mred\x1b[0m ünïcode \"q\" \\ \t tab",
             "level": LEVELS[i % 5], "source": SOURCES[(i // 3) % 5],
             "timestamp": f"2026-11-30T23:59:{i % 60:02d}.{(i * 7919) % 1000000:06d}Z"}
            for i in range(n)]


def comparable(run: dict[str, Any]) -> dict[str, Any]:
    return {k: run[k] for k in ("id", "project", "name", "state", "exit_code", "created_at",
                                "finished_at", "config", "tags", "line_count", "error_count",
                                "last_line")}


def keys_create(data: Path, store: list[str], scopes: str) -> str:
    out = subprocess.run([str(BINARY), "keys", "create", "--scopes", scopes, "--name", scopes,
                          "--data", str(data), *store], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def other_store(store_args: list[str], request: Any) -> list[str]:
    """A second, empty store: SQLite in its own data directory, or a new PostgreSQL schema."""
    if not store_args:
        return []
    return ["--store", request.getfixturevalue("postgres").new_schema()]


def test_a_run_moves_between_servers_losslessly(make_server: Any, tmp_path: Path,
                                                store_args: list[str], request: Any) -> None:
    src_dir, dst_dir = tmp_path / "src", tmp_path / "dst"
    src_dir.mkdir()
    dst_dir.mkdir()
    admin_key = keys_create(src_dir, store_args, "admin")
    read_key = keys_create(src_dir, store_args, "read")
    src: Server = make_server(data_dir=src_dir).start()
    src.token = admin_key
    rid = src.new_run("vision", name="resnet-50", config={"lr": 0.1, "layers": [1, 2]},
                      tags=["a", "b"])
    assert src.batch(rid, ["cleared away"] * 3).status == 200
    assert src.request("DELETE", f"/runs/{rid}/logs").status in (200, 204)  # numbers go on at 4
    for k in range(3):
        for writer in ("rank-0", "rank-1"):
            assert src.batch(rid, lines_for(f"{writer}-{k}", 700), writer=writer).status == 200
    assert src.batch(rid, [{"message": "x" * 70000}]).status == 200  # split into 2 lines
    assert src.request("PATCH", f"/runs/{rid}", {"state": "failed", "exit_code": 3}).status == 200
    run = src.get(f"/runs/{rid}").json()
    lines = src.all_lines(rid)
    assert lines[0]["line_number"] == 4 and len(lines) == 4202
    summary = src.get(f"/runs/{rid}/logs/summary").json()

    f = tmp_path / "run.wlrun.gz"
    no_key = admin("export-run", rid, str(f), "--server", src.base)
    assert no_key.returncode == 1 and "401" in no_key.stderr and not f.exists()
    out = admin("export-run", rid[:8], str(f), "--server", src.base, "--api-key", read_key)
    assert out.returncode == 0, out.stderr
    assert f"exported run {rid} (4202 lines)" in out.stderr
    with gzip.open(f, "rt", encoding="utf-8") as fh:
        header = json.loads(fh.readline())
    assert header["format"] == "wanllmdb-run" and header["version"] == 1

    dst_store = other_store(store_args, request)
    dst = Server(dst_dir, dst_store).start()  # imported beside a running server
    try:
        out = admin("import-run", str(f), "--data", str(dst_dir), *dst_store)
        assert out.returncode == 0, out.stderr
        assert f"imported run {rid} (project vision, 4202 lines)" in out.stderr
        assert comparable(dst.get(f"/runs/{rid}").json()) == comparable(run)
        assert dst.all_lines(rid) == lines
        assert dst.get(f"/runs/{rid}/logs/summary").json() == summary
        assert dst.all_lines(rid, writer="rank-1", level="ERROR") == [
            ln for ln in lines if ln["writer"] == "rank-1" and ln["level"] == "ERROR"]
        assert [ln["line_number"] for ln in dst.all_lines(rid, search="rank-0-2 5")] == [
            ln["line_number"] for ln in lines if "rank-0-2 5" in ln["message"]]
        r = dst.batch(rid, ["appended after the move"])
        assert r.status == 200 and r.json()["first_line"] == lines[-1]["line_number"] + 1
        check = admin("check", "--run", rid, "--data", str(dst_dir), *dst_store)
        assert check.returncode == 0, check.stdout

        again = admin("import-run", str(f), "--data", str(dst_dir), *dst_store)
        assert again.returncode == 1 and f"run {rid} exists here" in again.stderr
        assert len(dst.all_lines(rid)) == 4203
    finally:
        assert dst.stop() == 0


def test_import_refuses_damaged_files_and_stores_nothing(make_server: Any, tmp_path: Path,
                                                         store_args: list[str],
                                                         request: Any) -> None:
    src: Server = make_server().start()
    rid = src.new_run("p")
    assert src.batch(rid, [f"line {i}" for i in range(2500)]).status == 200
    good = tmp_path / "good.gz"
    assert admin("export-run", rid, str(good), "--server", src.base).returncode == 0
    exists = admin("export-run", rid, str(good), "--server", src.base)
    assert exists.returncode == 1 and "exists" in exists.stderr
    with gzip.open(good, "rt", encoding="utf-8") as fh:
        text = fh.read().splitlines()
    assert len(text) == 2502 and json.loads(text[-1]) == {"end": True, "lines": 2500}
    # A data directory that does not exist yet: import-run makes it, like a server would.
    args = ["--data", str(tmp_path / "other" / "data"), *other_store(store_args, request)]
    cases = {
        "truncated": (text[:-1], "truncated"),
        "bad level": (text[:5] + [text[5].replace('"level":"INFO"', '"level":"LOUD"')]
                      + text[6:], '"level"'),
        "numbers going back": (text[:3] + [text[4], text[3]] + text[5:], '"line_number"'),
        "wrong count": (text[:-1] + ['{"end":true,"lines":7}'], "trailer counts 7"),
        "not a run file": (['{"hello": 1}'], "not a run file"),
        "newer version": ([text[0].replace('"version":1', '"version":2')] + text[1:],
                          "version 2"),
    }
    for name, (content, why) in cases.items():
        bad = tmp_path / f"{name.replace(' ', '_')}.gz"
        with gzip.open(bad, "wt", encoding="utf-8") as fh:
            fh.write("\n".join(content) + "\n")
        out = admin("import-run", str(bad), *args)
        assert out.returncode == 1, (name, out.stderr)
        assert why in out.stderr, (name, out.stderr)
    ok = admin("import-run", str(good), *args)
    assert ok.returncode == 0, ok.stderr  # nothing of the refused files was left behind
    (tmp_path / "other" / "data").mkdir(parents=True, exist_ok=True)  # PostgreSQL: for the log
    dst = Server(tmp_path / "other" / "data", args[2:]).start()
    try:
        assert [ln["message"] for ln in dst.all_lines(rid)] == [f"line {i}" for i in range(2500)]
        runs = dst.get("/runs").json()
        assert [r["id"] for r in (runs["runs"] if isinstance(runs, dict) else runs)] == [rid]
    finally:
        assert dst.stop() == 0
