"""Search sees what a terminal shows; downloads are named, plain by default, gzip on request;
context=N gives matches with the lines around them."""
from __future__ import annotations

import gzip
import json

from conftest import Server


def test_search_regex_and_counts_skip_escape_codes(server: Server) -> None:
    run = server.new_run()
    server.batch(run, ["\x1b[32mLoading\x1b[0m dataset from /data", "Load\x1b[1ming\x1b[0m dataset from x",
                       "literal [32m text", "plain"])
    hits = lambda **f: [l["line_number"] for l in server.all_lines(run, **f)]  # noqa: E731
    assert hits(search="Loading dataset from") == [1, 2]
    assert hits(search="[32m") == [3]
    assert hits(regex="^Loading dataset from /") == [1]
    assert server.get(f"/runs/{run}/logs/locate", line=1, search="loading dataset").json()["total"] == 2
    # messages come back as stored
    assert server.get(f"/runs/{run}/logs").json()["logs"][0]["message"].startswith("\x1b[32m")


def test_download_names_plain_text_raw_gzip_and_elapsed(server: Server) -> None:
    run = server.new_run("my proj", name="resnet/50 (lr=3e-4)")
    server.batch(run, [{"message": "\x1b[31mred\x1b[0m alert", "timestamp": 100.0},
                       {"message": "=1+2", "level": "ERROR", "timestamp": 101.5}])
    r = server.get(f"/runs/{run}/logs/download", format="txt", level="ERROR", search="1+2")
    assert r.status == 200
    assert r.headers["content-disposition"] == \
        'attachment; filename="my-proj_resnet-50-lr-3e-4_level-ERROR_search-1-2.txt"'
    r = server.get(f"/runs/{run}/logs/download", format="txt")
    assert r.body.decode().splitlines()[0].endswith("[INFO] [stdout] red alert")
    csv = server.get(f"/runs/{run}/logs/download", format="csv").body.decode()
    assert ",red alert\r\n" in csv
    raw = server.get(f"/runs/{run}/logs/download", format="txt", raw=1).body.decode()
    assert "\x1b[31mred\x1b[0m alert" in raw
    js = json.loads(server.get(f"/runs/{run}/logs/download", format="json").body)
    assert js[0]["message"] == "\x1b[31mred\x1b[0m alert"  # JSON keeps messages as stored
    gz = server.get(f"/runs/{run}/logs/download", format="txt", gzip=1)
    assert gz.headers["content-type"] == "application/gzip"
    assert gz.headers["content-disposition"].endswith('.txt.gz"')
    assert gzip.decompress(gz.body).decode() == r.body.decode()
    wire = server.request("GET", f"/runs/{run}/logs/download?format=txt",
                          headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert wire.headers.get("content-encoding") == "gzip"
    assert gzip.decompress(wire.body).decode() == r.body.decode()
    refused = server.request("GET", f"/runs/{run}/logs/download?format=txt",
                             headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
    el = server.get(f"/runs/{run}/logs/download", format="txt", time="elapsed").body.decode().splitlines()
    assert el[0].startswith("+0:00:00.000000 [INFO]") and el[1].startswith("+0:00:01.500000 [ERROR]")
    assert server.get(f"/runs/{run}/logs/download", format="csv", time="elapsed").body.decode() \
        .startswith("line_number,elapsed,")
    for bad in ({"time": "local"}, {"raw": "yes"}, {"gzip": "2"}):
        assert server.get(f"/runs/{run}/logs/download", format="txt", **bad).status == 422


def test_big_gzip_download_streams_in_pieces(server: Server) -> None:
    run = server.new_run()
    for k in range(3):
        server.batch(run, [f"line {k * 10000 + i} " + "x" * 40 for i in range(10000)])
    r = server.get(f"/runs/{run}/logs/download", format="txt", gzip=1)
    text = gzip.decompress(r.body).decode().splitlines()
    assert len(text) == 30000 and text[-1].endswith("line 29999 " + "x" * 40)
    assert len(r.body) < 30000 * 60 / 5


def test_context_lines_around_matches(server: Server) -> None:
    run = server.new_run()
    msgs = [f"m{i}" for i in range(1, 31)]
    msgs[9] = "hit a"    # line 10
    msgs[11] = "hit b"   # line 12
    msgs[27] = "hit c"   # line 28
    server.batch(run, msgs)
    page = server.get(f"/runs/{run}/logs", search="hit", context=2).json()["logs"]
    assert [l["line_number"] for l in page] == [8, 9, 10, 11, 12, 13, 14, 26, 27, 28, 29, 30]
    assert [l["line_number"] for l in page if not l.get("context")] == [10, 12, 28]
    assert all(l.get("context") is True for l in page if "hit" not in l["message"])
    # pages in both directions and locate agree with the full list
    asc = server.get(f"/runs/{run}/logs", search="hit", context=2, after_line=11, limit=4).json()
    assert [l["line_number"] for l in asc["logs"]] == [12, 13, 14, 26] and asc["has_more"]
    desc = server.get(f"/runs/{run}/logs", search="hit", context=2, before_line=26, order="desc", limit=3).json()
    assert [l["line_number"] for l in desc["logs"]] == [14, 13, 12]
    loc = server.get(f"/runs/{run}/logs/locate", search="hit", context=2, line=26).json()
    assert loc == {"index": 7, "total": 12}
    # context counts lines passing the other filters
    assert server.get(f"/runs/{run}/logs", search="hit", context=101).status == 422
    assert [l["line_number"] for l in server.get(f"/runs/{run}/logs", search="hit", context=0).json()["logs"]] == [10, 12, 28]
