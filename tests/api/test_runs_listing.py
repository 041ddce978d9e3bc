"""Runs listing at scale: cursor pages, search by name/id/tag, state filter, sorts; short run ids
(unique prefixes of >= 8 hex digits) in paths and the stream, ambiguous prefixes as 409."""
from __future__ import annotations

from typing import Any

from conftest import Server


def all_pages(server: Server, **params: Any) -> tuple[list[dict[str, Any]], int]:
    runs: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        r = server.get("/runs", cursor=cursor, **params)
        assert r.status == 200, r.body
        page = r.json()
        runs += page["runs"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return runs, pages


def test_cursor_pages_reach_every_run_beyond_1000(server: Server) -> None:
    ids = [server.new_run("big", name=f"r{i}") for i in range(1005)]
    first = server.get("/runs", project="big", limit=1000).json()
    assert len(first["runs"]) == 1000 and first["total"] == 1005 and first["next_cursor"]
    runs, pages = all_pages(server, project="big", limit=300)
    assert pages == 4
    assert [r["id"] for r in runs] == list(reversed(ids))  # newest first, none twice, none missing
    # a run created while paging does not shift the pages after the cursor
    page1 = server.get("/runs", project="big", limit=500).json()
    server.new_run("big", name="late")
    page2 = server.get("/runs", project="big", limit=500, cursor=page1["next_cursor"]).json()
    assert {r["id"] for r in page1["runs"]}.isdisjoint(r["id"] for r in page2["runs"])
    assert page2["runs"][0]["id"] == ids[-501]


def test_search_state_and_sorts(server: Server) -> None:
    a = server.new_run("s", name="baseline-lr3e-4", tags=["sweep", "gpu"])
    b = server.new_run("s", name="Ablation no dropout", tags=["ablation"])
    c = server.new_run("s", name="big model", tags=["gpu"])
    server.batch(a, [{"message": "x", "level": "ERROR"}] * 3 + ["ok"] * 10)
    server.batch(b, [{"message": "x", "level": "CRITICAL"}] * 5)
    server.batch(c, ["ok"] * 2)
    server.request("PATCH", f"/runs/{b}", {"state": "failed", "exit_code": 1})
    names = lambda **p: [r["name"] for r in server.get("/runs", project="s", **p).json()["runs"]]  # noqa: E731
    assert names(q="ablation") == ["Ablation no dropout"]  # name, case-insensitive
    assert sorted(names(q="gpu")) == ["baseline-lr3e-4", "big model"]  # a tag
    assert names(q=a[:8]) == ["baseline-lr3e-4"]  # an id prefix
    assert names(q="100%_") == []  # LIKE wildcards are literal
    assert names(state="failed") == ["Ablation no dropout"]
    assert names(sort="lines") == ["baseline-lr3e-4", "Ablation no dropout", "big model"]
    assert names(sort="lines", order="asc") == ["big model", "Ablation no dropout", "baseline-lr3e-4"]
    assert names(sort="errors") == ["Ablation no dropout", "baseline-lr3e-4", "big model"]
    assert names(sort="duration")[-1] == "Ablation no dropout"  # finished: shortest
    assert server.get("/runs", project="s", q="gpu").json()["total"] == 2
    # sorted pages by cursor: every run once
    runs, _ = all_pages(server, project="s", sort="errors", limit=1)
    assert [r["name"] for r in runs] == names(sort="errors")


def test_listing_rejects_bad_parameters(server: Server) -> None:
    assert server.get("/runs", sort="size").status == 422
    assert server.get("/runs", order="up").status == 422
    assert server.get("/runs", state="done").status == 422
    assert server.get("/runs", cursor="nonsense").status == 400
    assert server.get("/runs", cursor="99999999999999999999999_x").status == 400
    assert server.get("/runs", q="x" * 201).status == 422


def test_short_ids_everywhere(server: Server) -> None:
    run = server.new_run("short", name="one")
    server.batch(run, ["hello", "world"])
    short = run[:8]
    assert server.get(f"/runs/{short}").json()["id"] == run
    assert server.get(f"/runs/{short.upper()}").json()["id"] == run
    assert server.get(f"/runs/{run[:13]}").json()["id"] == run  # with the dash
    assert [l["message"] for l in server.get(f"/runs/{short}/logs").json()["logs"]] == ["hello", "world"]
    assert server.get(f"/runs/{short}/logs/summary").json()["total"] == 2
    assert server.get(f"/runs/{run[:7]}").status == 404  # too short
    assert server.get("/runs/zzzzzzzz").status == 404
    assert server.get("/runs/00000000").status == 404


def test_ambiguous_prefix_is_409(server: Server) -> None:
    one = "9da463a7-0000-4000-8000-000000000001"
    two = "9da463a7-0000-4000-8000-000000000002"
    server.post("/runs", {"project": "amb", "id": one})
    server.post("/runs", {"project": "amb", "id": two})
    r = server.get("/runs/9da463a7")
    assert r.status == 409
    err = r.json()["error"]
    assert err["code"] == "conflict" and "ambiguous" in err["message"] and one in err["message"]
    assert server.get("/runs/9da463a7-0000-4000-8000-00000000000").status == 409
    assert server.get(f"/runs/{one[:-1]}1").json()["id"] == one


def test_short_ids_in_the_stream_and_the_cli(server: Server, tmp_path: Any) -> None:
    import subprocess

    from conftest import BINARY
    from websockets.sync.client import connect

    run = server.new_run("cli", name="short")
    server.batch(run, ["\x1b[31mred\x1b[0m one", "two"])
    with connect(f"ws://127.0.0.1:{server.port}/api/v1/runs/{run[:8]}/logs/stream") as ws:
        import json as _json
        frame = _json.loads(ws.recv(timeout=5))
        assert [l["message"] for l in frame["logs"]] == ["\x1b[31mred\x1b[0m one", "two"]
        assert frame["logs"][0]["run_id"] == run
    out = subprocess.run([str(BINARY), "tail", run[:8], "--server", server.base], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].endswith("two")
    target = tmp_path / "out.txt"
    out = subprocess.run([str(BINARY), "export", run[:10].upper(), "-o", str(target), "--server", server.base],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert target.read_text().splitlines()[0].endswith("[stdout] red one")  # plain text by default
    out = subprocess.run([str(BINARY), "export", run[:8], "--raw", "--server", server.base],
                         capture_output=True, text=True, timeout=30)
    assert "\x1b[31mred" in out.stdout
    other = "%s-0000-4000-8000-000000000000" % run[:8]
    server.post("/runs", {"project": "cli", "id": other})
    out = subprocess.run([str(BINARY), "tail", run[:8], "--server", server.base], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "ambiguous" in out.stderr
