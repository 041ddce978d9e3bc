"""Issue 13, bookmarks: a line or a range with a note, per run, listed oldest first, deletable,
validated (lines must exist), dropped with the run's logs, and on both stores."""
from __future__ import annotations

from typing import Any

import pytest

from conftest import Server


def filled(server: Server, n: int = 50) -> str:
    rid = server.new_run()
    assert server.batch(rid, [f"line {i}" for i in range(n)]).status == 200
    return rid


def test_add_list_delete(server: Server) -> None:
    rid = filled(server)
    a = server.post(f"/runs/{rid}/bookmarks", {"line": 10, "last_line": 20, "note": "loss spike"})
    assert a.status == 201, a.body
    b = server.post(f"/runs/{rid}/bookmarks", {"line": 3})
    assert b.status == 201, b.body
    got = a.json()
    assert (got["line"], got["last_line"], got["note"], got["run_id"]) == (10, 20, "loss spike", rid)
    assert got["created_at"].endswith("Z") and isinstance(got["id"], int)
    assert (b.json()["line"], b.json()["last_line"], b.json()["note"]) == (3, 3, "")
    listed = server.get(f"/runs/{rid}/bookmarks").json()["bookmarks"]
    assert [x["id"] for x in listed] == [got["id"], b.json()["id"]]
    assert server.request("DELETE", f"/runs/{rid}/bookmarks/{got['id']}").status == 204
    assert [x["id"] for x in server.get(f"/runs/{rid}/bookmarks").json()["bookmarks"]] == [b.json()["id"]]
    again = server.request("DELETE", f"/runs/{rid}/bookmarks/{got['id']}")
    assert again.status == 404
    # Another run's bookmark id is not this run's.
    other = filled(server, 5)
    assert server.request("DELETE", f"/runs/{other}/bookmarks/{b.json()['id']}").status == 404
    assert server.request("DELETE", f"/runs/{rid}/bookmarks/abc").status == 404


@pytest.mark.parametrize("body,status,needle", [
    ({}, 400, "line"),
    ({"line": 0}, 422, "line number"),
    ({"line": "3"}, 422, "line number"),
    ({"line": 51}, 422, "exist"),
    ({"line": 10, "last_line": 60}, 422, "exist"),
    ({"line": 10, "last_line": 5}, 422, "before"),
    ({"line": 1, "note": "x" * 2001}, 422, "note"),
    ({"line": 1, "note": 5}, 400, "note"),
])
def test_bad_bookmarks_are_refused(server: Server, body: dict[str, Any], status: int, needle: str) -> None:
    rid = filled(server)
    r = server.post(f"/runs/{rid}/bookmarks", body)
    assert r.status == status, r.body
    assert needle in r.json()["error"]["message"]
    assert server.get(f"/runs/{rid}/bookmarks").json()["bookmarks"] == []


def test_unknown_run_and_empty_run(server: Server) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    assert server.get(f"/runs/{missing}/bookmarks").status == 404
    assert server.post(f"/runs/{missing}/bookmarks", {"line": 1}).status == 404
    empty = server.new_run()
    r = server.post(f"/runs/{empty}/bookmarks", {"line": 1})
    assert r.status == 422 and "no lines" in r.json()["error"]["message"]


def test_clear_and_delete_drop_bookmarks(server: Server) -> None:
    rid = filled(server)
    assert server.post(f"/runs/{rid}/bookmarks", {"line": 5}).status == 201
    assert server.request("DELETE", f"/runs/{rid}/logs").status == 204
    assert server.get(f"/runs/{rid}/bookmarks").json()["bookmarks"] == []
    assert server.batch(rid, ["new"]).status == 200
    assert server.post(f"/runs/{rid}/bookmarks", {"line": 51}).status == 201
    assert server.request("DELETE", f"/runs/{rid}").status == 204
    assert server.get(f"/runs/{rid}/bookmarks").status == 404


def test_bookmarks_survive_a_restart(make_server: Any, tmp_path: Any) -> None:
    s = make_server(data_dir=tmp_path).start()
    rid = filled(s)
    ids = [s.post(f"/runs/{rid}/bookmarks", {"line": n, "note": f"n{n}"}).json()["id"] for n in (7, 9)]
    s.stop()
    t = make_server(data_dir=tmp_path).start()
    listed = t.get(f"/runs/{rid}/bookmarks").json()["bookmarks"]
    assert [(x["id"], x["note"]) for x in listed] == [(ids[0], "n7"), (ids[1], "n9")]
    # Ids never repeat after a restart.
    new = t.post(f"/runs/{rid}/bookmarks", {"line": 1}).json()["id"]
    assert new not in ids


def test_a_run_keeps_at_most_1000_bookmarks(server: Server) -> None:
    rid = filled(server, 10)
    for i in range(1000):
        r = server.post(f"/runs/{rid}/bookmarks", {"line": 1 + i % 10})
        assert r.status == 201, (i, r.body)
    over = server.post(f"/runs/{rid}/bookmarks", {"line": 1, "note": "one too many"})
    assert over.status == 422 and b"at most 1000" in over.body
    listed = server.get(f"/runs/{rid}/bookmarks").json()["bookmarks"]
    assert len(listed) == 1000 and all(b["note"] != "one too many" for b in listed)
    assert server.request("DELETE", f"/runs/{rid}/bookmarks/{listed[0]['id']}").status == 204
    assert server.post(f"/runs/{rid}/bookmarks", {"line": 2}).status == 201
