"""Issue 13, structured logs: fields parsed from JSON / Python-dict / logfmt lines and sent
explicitly, custom level names, and field filters on the list, download and stream APIs."""
from __future__ import annotations

import csv
import io
import json
import urllib.parse
from typing import Any

import pytest

from conftest import Server
from test_stream import collect_lines, ws

LINES: list[Any] = [
    json.dumps({"level": "warning", "msg": "disk slow", "disk": "sda", "loss": 2.5}),
    'step=1 loss=1.2 lr=1e-4 msg="eval done"',
    "{'loss': 0.7, 'grad_norm': 1.5, 'epoch': 0.01}",
    "plain text with a=b inside",
    {"message": "explicit", "level": "SUCCESS", "fields": {"rank": 3, "data": {"gpu": 0}}},
    {"message": "named", "level": "ERROR", "level_name": "severe", "fields": {"loss": 9}},
    json.dumps({"severity": "trace", "msg": "deep", "loss": 0.1}),
    "2024-11-16 10:00:00.123 | SUCCESS  | __main__:<module>:3 - loguru says done",
]


def fill(server: Server) -> str:
    rid = server.new_run()
    r = server.batch(rid, LINES)
    assert r.status == 200, r.body
    return rid


def lines_where(server: Server, rid: str, query: str) -> list[int]:
    r = server.request("GET", f"/runs/{rid}/logs?{query}")
    assert r.status == 200, r.body
    return [l["line_number"] for l in r.json()["logs"]]


def test_fields_and_level_names_are_parsed_and_kept(server: Server) -> None:
    rid = fill(server)
    got = {l["line_number"]: l for l in server.all_lines(rid)}
    assert got[1]["fields"] == {"disk": "sda", "loss": 2.5}
    assert got[1]["level"] == "WARNING" and "level_name" not in got[1]
    assert got[1]["message"] == LINES[0]  # the line keeps what the program printed
    assert got[2]["fields"] == {"step": 1, "loss": 1.2, "lr": 1e-4}
    assert got[3]["fields"] == {"loss": 0.7, "grad_norm": 1.5, "epoch": 0.01}
    assert "fields" not in got[4]
    assert got[5]["fields"] == {"rank": 3, "data": {"gpu": 0}}
    assert (got[5]["level"], got[5]["level_name"]) == ("INFO", "SUCCESS")
    assert (got[6]["level"], got[6]["level_name"]) == ("ERROR", "SEVERE")
    assert (got[7]["level"], got[7]["level_name"]) == ("DEBUG", "TRACE")
    assert (got[8]["level"], got[8]["level_name"]) == ("INFO", "SUCCESS")
    # Custom levels count under their canonical level.
    summary = server.get(f"/runs/{rid}/logs/summary").json()
    assert summary["by_level"]["INFO"] == 5 and summary["by_level"]["DEBUG"] == 1


@pytest.mark.parametrize("query,want", [
    ("field.loss>1.5", [1, 6]),
    ("field=loss<1", [3, 7]),
    ("field.loss>=1.2", [1, 2, 6]),
    ("field.rank=3", [5]),
    ("field.data.gpu=0", [5]),
    ("field.disk=sda", [1]),
    ("field=disk!%3Dsdb", [1]),
    ("field=loss", [1, 2, 3, 6, 7]),
    ("field=!loss", [4, 5, 8]),
    ("field=loss>0.5,step=1", [2]),
    ("field.loss>1&level=ERROR", [6]),
    ("field.loss>0&search=eval", [2]),
])
def test_field_filters_on_the_list(server: Server, query: str, want: list[int]) -> None:
    rid = fill(server)
    assert lines_where(server, rid, query) == want
    # Descending pages give the same lines.
    assert lines_where(server, rid, query + "&order=desc") == want[::-1]


@pytest.mark.parametrize("query,needle", [
    ("field=loss>", "need a number"),
    ("field==3", "no field name"),
    ("field=a..b=1", "empty part"),
    ("field=" + ",".join(f"k{i}" for i in range(9)), "at most 8"),
    ("field=" + "x" * 600, "longer than"),
])
def test_bad_field_filters_are_422(server: Server, query: str, needle: str) -> None:
    rid = fill(server)
    r = server.request("GET", f"/runs/{rid}/logs?{query}")
    assert r.status == 422, r.body
    assert needle in r.json()["error"]["message"]


def test_downloads_carry_fields(server: Server) -> None:
    rid = fill(server)
    r = server.request("GET", f"/runs/{rid}/logs/download?format=json&field.loss%3E1.5")
    assert r.status == 200
    rows = json.loads(r.body)
    assert [(x["line_number"], x["fields"]["loss"]) for x in rows] == [(1, 2.5), (6, 9)]
    # CSV keeps its columns (message last: spreadsheets and scripts rely on it).
    r = server.request("GET", f"/runs/{rid}/logs/download?format=csv")
    table = list(csv.reader(io.StringIO(r.body.decode())))
    assert table[0] == ["line_number", "timestamp", "level", "source", "writer", "message"]
    assert table[5][-1] == "explicit"
    txt = server.request("GET", f"/runs/{rid}/logs/download?format=txt").body.decode().splitlines()
    assert "[SUCCESS] [user] explicit" in txt[4] or "[SUCCESS] [stdout] explicit" in txt[4]


def test_stream_applies_field_filters(server: Server) -> None:
    rid = fill(server)
    with ws(server, rid, "?" + urllib.parse.urlencode({"field": "loss>1.5"})) as c:
        backlog = collect_lines(c, 2)
        assert [l["line_number"] for l in backlog] == [1, 6]
        server.batch(rid, ["loss=0.2 step=9", "loss=7 step=10"])
        live = collect_lines(c, 1)
        assert [(l["line_number"], l["fields"]) for l in live] == [(10, {"loss": 7, "step": 10})]


@pytest.mark.parametrize("item,status,needle", [
    ({"message": "x", "fields": [1, 2]}, 422, "object"),
    ({"message": "x", "fields": "a=b"}, 422, "object"),
    ({"message": "x", "fields": {"": 1}}, 422, "field name"),
    ({"message": "x", "fields": {"k" * 200: 1}}, 422, "field name"),
    ({"message": "x", "fields": {"big": "v" * 20000}}, 413, "fields are at most"),
    ({"message": "x", "level": "no spaces allowed"}, 422, "level name"),
    ({"message": "x", "level": "9LIVES"}, 422, "level name"),
    ({"message": "x", "level_name": "L" * 40}, 422, "level name"),
])
def test_bad_structured_input_is_refused_whole(server: Server, item: dict[str, Any], status: int,
                                               needle: str) -> None:
    rid = server.new_run()
    r = server.batch(rid, ["fine", item])
    assert r.status == status, r.body
    assert needle in r.json()["error"]["message"]
    assert server.all_lines(rid) == []  # nothing partially stored


def test_single_line_endpoint_takes_fields(server: Server) -> None:
    rid = server.new_run()
    r = server.post(f"/runs/{rid}/logs", {"message": "one\ntwo", "level": "notice",
                                           "fields": {"rank": 1}})
    assert r.status == 201, r.body
    got = server.all_lines(rid)
    # A message's fields describe each of its lines.
    assert [(l["message"], l["fields"], l["level_name"]) for l in got] == [
        ("one", {"rank": 1}, "NOTICE"), ("two", {"rank": 1}, "NOTICE")]


def test_fields_survive_many_chunks_and_restart(make_server: Any, tmp_path: Any) -> None:
    """Thousands of lines over several chunks, read back after a restart (from the store, not a
    cache)."""
    data = tmp_path
    server = make_server(data_dir=data).start()
    rid = server.new_run()
    for b in range(5):
        r = server.batch(rid, [f"step={b * 1000 + i} loss={(i % 100) / 10} tag=t{b}" for i in range(1000)])
        assert r.status == 200
    want = [b * 1000 + i + 1 for b in range(5) for i in range(1000) if (i % 100) / 10 > 9.5]
    assert [l["line_number"] for l in server.all_lines(rid, field="loss>9.5")] == want
    server.stop()
    again = make_server(data_dir=data).start()
    assert [l["line_number"] for l in again.all_lines(rid, field="loss>9.5")] == want
    tagged = again.all_lines(rid, field="tag=t3")
    assert len(tagged) == 1000 and tagged[0]["fields"] == {"step": 3000, "loss": 0, "tag": "t3"}


def test_time_ordered_views_tell_field_filters_apart(server: Server) -> None:
    """Time-ordered views are cached per filter: `field.loss>1.5` and `field.loss>=1.2` are
    separate parameters (names, not values), and each must get its own view."""
    rid = fill(server)
    for query, want in (("field.loss>1.5", [1, 6]), ("field.loss>=1.2", [1, 2, 6]),
                        ("field=rank", [5]), ("field=disk", [1])):
        assert sorted(lines_where(server, rid, query + "&sort=time")) == want, query
        r = server.request("GET", f"/runs/{rid}/logs/locate?{query}&sort=time&line=1000")
        assert r.status == 200, r.body
        assert r.json()["total"] == len(want), query
