"""Issue 14, project-wide search: GET /projects/{name}/search streams, newest runs first, each
run with matches and its count and first lines, then an end line with the next page's cursor;
and `wanllmdb grep` prints every match like `grep -n` with the run's name in front. Counts are
checked against a full listing of each run."""
from __future__ import annotations

import json
import random
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from conftest import BINARY, Server
from test_auth import _keys_cli_uses_the_test_store, make_key  # noqa: F401  (keys in the test store)

OOM = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"


def search(server: Server, project: str, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The run records and the end record of one page."""
    q = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    r = server.request("GET", f"/projects/{urllib.parse.quote(project, safe='')}/search?{q}")
    assert r.status == 200, r.body
    assert r.headers["content-type"] == "application/x-ndjson"
    records = [json.loads(line) for line in r.body.decode().splitlines()]
    assert records and records[-1]["type"] == "end", records
    # Progress lines count the runs scanned so far: never backwards, never past the end's count.
    progress = [x["runs_scanned"] for x in records if x["type"] == "progress"]
    assert progress == sorted(progress) and all(n <= records[-1]["runs_scanned"] for n in progress)
    runs = [x for x in records[:-1] if x["type"] != "progress"]
    assert all(x["type"] == "run" for x in runs)
    return runs, records[-1]


def newest_first(server: Server, project: str) -> list[str]:
    return [r["id"] for r in server.get("/runs", project=project, limit=1000).json()["runs"]]


@pytest.fixture
def project(server: Server) -> dict[str, Any]:
    """A project (its name has a space) of six runs; three printed the OOM error, one of them
    in colour; another project's run printed it too."""
    name = "vision team"
    plan = {"a": 2, "b": 0, "c": 5, "d": 0, "e": 1, "f": 0}
    ids = {}
    for run, n in plan.items():
        ids[run] = server.new_run(project=name, name=f"run-{run}")
        lines = [f"step {i} loss {1 / (i + 1):.3f}" for i in range(50)]
        for k in range(n):
            lines.insert(10 + 7 * k, {"message": OOM, "level": "ERROR"} if k % 2 == 0
                         else f"\x1b[31mruntimeerror\x1b[0m: cuda OUT OF MEMORY #{k}")
        assert server.batch(ids[run], lines).status == 200
    other = server.new_run(project="other", name="elsewhere")
    assert server.batch(other, [OOM]).status == 200
    return {"name": name, "ids": ids, "plan": plan}


def test_runs_with_matches_newest_first_with_exact_counts_and_first_lines(server: Server, project: dict[str, Any]) -> None:
    runs, end = search(server, project["name"], q="CUDA out of memory", preview=2)
    order = newest_first(server, project["name"])
    expected = [rid for rid in order if project["plan"][server.get(f"/runs/{rid}").json()["name"][4:]] > 0]
    assert [r["run"]["id"] for r in runs] == expected
    for r in runs:
        full = [l for l in server.all_lines(r["run"]["id"], search="CUDA out of memory")]
        assert r["matches"] == len(full) == project["plan"][r["run"]["name"][4:]]
        assert r["lines"] == full[:2]  # the first matches, as the run's own listing gives them
        assert r["run"]["project"] == project["name"]
    assert end == {"type": "end", "runs_scanned": 6, "runs_matched": 3, "next_cursor": None}


def test_regex_and_level_filters(server: Server, project: dict[str, Any]) -> None:
    runs, _ = search(server, project["name"], regex=r"#[13]$", preview=5)
    assert {r["run"]["name"]: r["matches"] for r in runs} == {"run-a": 1, "run-c": 2}  # k = 1 and 3
    runs, _ = search(server, project["name"], q="out of memory", level="ERROR")
    assert {r["run"]["name"]: r["matches"] for r in runs} == {"run-a": 1, "run-c": 3, "run-e": 1}  # k even
    runs, end = search(server, project["name"], q="no such text anywhere")
    assert runs == [] and end["runs_matched"] == 0 and end["next_cursor"] is None


def test_pages_follow_the_cursor_without_repeats_or_gaps(server: Server, project: dict[str, Any]) -> None:
    whole, _ = search(server, project["name"], q="out of memory")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        runs, end = search(server, project["name"], q="out of memory", limit=1, cursor=cursor)
        pages += 1
        assert len(runs) <= 1
        seen += [r["run"]["id"] for r in runs]
        cursor = end["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert seen == [r["run"]["id"] for r in whole]


def test_counts_equal_full_scans_on_random_runs(server: Server) -> None:
    rng = random.Random(14)
    words = ["loss", "NCCL", "timeout", "rank", "nan", "grad", "Killed", "epoch", "warmup"]
    ids = []
    for r in range(8):
        rid = server.new_run(project="random", name=f"r{r}")
        ids.append(rid)
        for _ in range(3):
            lines = [" ".join(rng.choice(words) for _ in range(rng.randint(2, 6))) for _ in range(700)]
            assert server.batch(rid, lines).status == 200
    for needle in ("nccl timeout", "Killed", "nan nan nan", "zzz"):
        runs, end = search(server, "random", q=needle, preview=0)
        got = {r["run"]["id"]: r["matches"] for r in runs}
        want = {rid: n for rid in ids if (n := len(server.all_lines(rid, search=needle)))}
        assert got == want, needle
        assert end["runs_scanned"] == 8


def test_a_search_through_many_runs_without_the_text_reports_progress(server: Server) -> None:
    """40 runs without the needle, then one with it (the oldest): the stream is not silent until
    the end. A progress line comes after every 16 runs without matches (more if scans are slow)."""
    name = "sweep"
    hit = server.new_run(project=name, name="oldest")
    assert server.batch(hit, ["warmup", OOM]).status == 200
    for i in range(40):
        rid = server.new_run(project=name, name=f"quiet-{i}")
        assert server.batch(rid, [f"step {k} loss 0.5" for k in range(20)]).status == 200
    q = urllib.parse.urlencode({"q": "CUDA out of memory"})
    r = server.request("GET", f"/projects/{name}/search?{q}")
    records = [json.loads(line) for line in r.body.decode().splitlines()]
    kinds = [x["type"] for x in records]
    assert kinds[-2:] == ["run", "end"] and records[-2]["run"]["id"] == hit, kinds
    progress = [x["runs_scanned"] for x in records if x["type"] == "progress"]
    # Never more than 16 runs without a line: at least 2 progress lines for the 40 quiet runs.
    assert len(progress) >= 2 and all(b - a <= 16 for a, b in zip([0] + progress, progress + [40])), progress
    assert records[-1]["runs_scanned"] == 41 and records[-1]["runs_matched"] == 1
    runs, end = search(server, name, q="CUDA out of memory")
    assert [x["run"]["id"] for x in runs] == [hit] and end == records[-1]


def test_bad_requests_are_clear_4xx(server: Server, project: dict[str, Any]) -> None:
    p = urllib.parse.quote(project["name"], safe="")
    for query, status, words in [
        ("", 422, "needs q"),
        ("regex=%28unclosed", 422, "regex"),
        ("q=x&cursor=garbage", 422, "cursor"),
        ("q=x&cursor=123.not-a-uuid", 422, "cursor"),
        ("q=x&limit=0", 422, "limit"),
        ("q=x&limit=100000", 422, "limit"),
        ("q=x&preview=21", 422, "preview"),
        ("q=x&search=y", 422, "not both"),
        ("q=x&since=yesterday", 422, "since"),
    ]:
        r = server.request("GET", f"/projects/{p}/search?{query}")
        assert r.status == status and words in r.json()["error"]["message"], (query, r.body)
    r = server.request("GET", "/projects/no-such-project/search?q=x")
    assert r.status == 404


def test_a_key_limited_to_projects_searches_only_those(make_server: Any, tmp_path: Path) -> None:
    admin = make_key(tmp_path, "admin")
    team_a = make_key(tmp_path, "read", "--project", "team-a")
    server: Server = make_server().start()
    server.token = admin
    for proj in ("team-a", "team-b"):
        assert server.batch(server.new_run(project=proj), [OOM]).status == 200
    server.token = team_a
    runs, _ = search(server, "team-a", q="out of memory")
    assert len(runs) == 1
    r = server.request("GET", "/projects/team-b/search?q=out")
    assert r.status == 403 and "team-b" in r.json()["error"]["message"]


def grep(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), "grep", *args, "--server", server.base], capture_output=True,
                          text=True, timeout=60)


def test_wanllmdb_grep_prints_every_match_like_grep_n(server: Server, project: dict[str, Any]) -> None:
    out = grep(server, "cuda out of memory", "--project", project["name"])
    assert out.returncode == 0, out.stderr
    want = []
    for rid in newest_first(server, project["name"]):
        name = server.get(f"/runs/{rid}").json()["name"]
        want += [f"{name}:{l['line_number']}:{l['message']}" for l in server.all_lines(rid, search="cuda out of memory")]
    assert out.stdout.splitlines() == want and len(want) == 8

    counts = grep(server, "-c", "--regex", r"(?i)out of memory", "--project", project["name"])
    assert counts.returncode == 0
    assert sorted(counts.stdout.splitlines()) == ["run-a:2", "run-c:5", "run-e:1"]
    assert grep(server, "-l", "OOM-that-never-happened", "--project", project["name"]).returncode == 1
    recent = grep(server, "-l", "out of memory", "--since", "1d", "--project", project["name"])
    assert sorted(recent.stdout.splitlines()) == ["run-a", "run-c", "run-e"]
    old = grep(server, "-l", "out of memory", "--until", "2001-01-01T00:00:00Z", "--project", project["name"])
    assert old.returncode == 1 and old.stdout == ""
    bad = grep(server, "x", "--since", "last tuesday", "--project", project["name"])
    assert bad.returncode == 2 and "--since" in bad.stderr
    missing = grep(server, "x", "--project", "nope")
    assert missing.returncode == 2 and "no such project" in missing.stderr
