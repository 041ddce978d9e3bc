"""List filters and paging, latest, summary, histogram, locate, download, clear."""
import csv
import io
import json

import pytest

from conftest import Server


@pytest.fixture
def run(server: Server) -> str:
    """300 lines: every 10th an ERROR, every 7th on stderr, rank-1 writes 20 more at the end."""
    rid = server.new_run()
    logs = []
    for i in range(300):
        logs.append({
            "message": f"epoch {i // 100} step {i} loss 0.{i:04d}" + (" Traceback-free failure" if i % 10 == 0 else ""),
            "level": "ERROR" if i % 10 == 0 else "INFO",
            "source": "stderr" if i % 7 == 0 else "stdout",
            "timestamp": f"2024-11-16T10:{i // 60:02d}:{i % 60:02d}Z",
        })
    assert server.batch(rid, logs, start_seq=0).status == 200
    server.batch(rid, [{"message": f"rank line {i}", "timestamp": "2024-11-16T11:00:00Z"} for i in range(20)],
                 writer="rank-1")
    return rid


def numbers(lines: list[dict]) -> list[int]:
    return [x["line_number"] for x in lines]


def test_level_source_writer_filters(server: Server, run: str) -> None:
    errors = server.all_lines(run, level="ERROR")
    assert numbers(errors) == [i + 1 for i in range(0, 300, 10)]
    both = server.all_lines(run, level="ERROR,INFO")
    assert len(both) == 320
    stderr = server.all_lines(run, source="stderr")
    assert numbers(stderr) == [i + 1 for i in range(0, 300, 7)]
    mixed = server.all_lines(run, level="ERROR", source="stderr")
    assert numbers(mixed) == [i + 1 for i in range(0, 300, 70)]
    assert len(server.all_lines(run, writer="rank-1")) == 20
    assert len(server.all_lines(run, writer="main,rank-1")) == 320
    r = server.get(f"/runs/{run}/logs", level="LOUD")
    assert r.status == 422 and "LOUD" in r.json()["error"]["message"]
    assert server.get(f"/runs/{run}/logs", source="radio").status == 422


def test_search_and_regex(server: Server, run: str) -> None:
    hits = server.all_lines(run, search="STEP 12")
    assert [x["message"].split(" loss")[0] for x in hits] == [f"epoch {i // 100} step {i}" for i in
                                                              [12] + list(range(120, 130))]
    rx = server.all_lines(run, regex=r"^epoch 2 step 2\d5 ")
    assert numbers(rx) == [206, 216, 226, 236, 246, 256, 266, 276, 286, 296]
    combined = server.all_lines(run, regex=r"step \d+5 ", level="ERROR")
    assert combined == []
    r = server.get(f"/runs/{run}/logs", regex="(unclosed")
    assert r.status == 422
    assert "missing )" in r.json()["error"]["message"]


def test_time_range(server: Server, run: str) -> None:
    lines = server.all_lines(run, since="2024-11-16T10:01:00Z", until="2024-11-16T10:01:09Z")
    assert numbers(lines) == list(range(61, 71))
    assert server.get(f"/runs/{run}/logs", since="tuesday").status == 422


def test_paging_both_ways(server: Server, run: str) -> None:
    page = server.get(f"/runs/{run}/logs", limit=100).json()
    assert numbers(page["logs"]) == list(range(1, 101)) and page["has_more"]
    page2 = server.get(f"/runs/{run}/logs", limit=100, after_line=100).json()
    assert numbers(page2["logs"]) == list(range(101, 201))
    desc = server.get(f"/runs/{run}/logs", limit=5, order="desc").json()
    assert numbers(desc["logs"]) == [320, 319, 318, 317, 316] and desc["has_more"]
    desc2 = server.get(f"/runs/{run}/logs", limit=5, order="desc", before_line=316).json()
    assert numbers(desc2["logs"]) == [315, 314, 313, 312, 311]
    last = server.get(f"/runs/{run}/logs", limit=500, after_line=300).json()
    assert numbers(last["logs"]) == list(range(301, 321)) and not last["has_more"]
    assert len(server.get(f"/runs/{run}/logs").json()["logs"]) == 320  # default 500
    assert server.get(f"/runs/{run}/logs", limit=10001).status == 422
    assert server.get(f"/runs/{run}/logs", limit=0).status == 422
    assert server.get(f"/runs/{run}/logs", order="sideways").status == 422
    assert server.get(f"/runs/{run}/logs", after_line="x").status == 422


def test_latest(server: Server, run: str) -> None:
    latest = server.get(f"/runs/{run}/logs/latest", limit=3).json()["logs"]
    assert numbers(latest) == [318, 319, 320]
    errors = server.get(f"/runs/{run}/logs/latest", limit=2, level="ERROR").json()["logs"]
    assert numbers(errors) == [281, 291]
    assert len(server.get(f"/runs/{run}/logs/latest").json()["logs"]) == 320


def test_summary(server: Server, run: str) -> None:
    s = server.get(f"/runs/{run}/logs/summary").json()
    assert s["total"] == 320
    assert s["by_level"] == {"DEBUG": 0, "INFO": 290, "WARNING": 0, "ERROR": 30, "CRITICAL": 0}
    assert s["by_source"]["stderr"] == 43 and s["by_source"]["stdout"] == 277
    assert s["by_writer"] == {"main": 300, "rank-1": 20}
    assert s["first_timestamp"] == "2024-11-16T10:00:00.000000Z"
    assert s["last_timestamp"] == "2024-11-16T11:00:00.000000Z"
    assert s["first_line"] == 1 and s["last_line"] == 320
    run_obj = server.get(f"/runs/{run}").json()
    assert run_obj["line_count"] == 320 and run_obj["error_count"] == 30


def test_histogram_and_locate(server: Server, run: str) -> None:
    h = server.get(f"/runs/{run}/logs/histogram", buckets=6).json()
    assert len(h["buckets"]) == 6
    total = sum(sum(b["counts"].values()) for b in h["buckets"])
    assert total == 320
    assert h["buckets"][0]["first_line"] == 1
    assert h["buckets"][-1]["counts"]["INFO"] == 20  # the rank-1 lines at 11:00
    errors = server.get(f"/runs/{run}/logs/histogram", buckets=6, level="ERROR").json()
    assert sum(b["counts"]["ERROR"] for b in errors["buckets"]) == 30
    assert sum(b["counts"]["INFO"] for b in errors["buckets"]) == 0
    loc = server.get(f"/runs/{run}/logs/locate", line=101, level="ERROR").json()
    assert loc == {"index": 10, "total": 30}
    loc = server.get(f"/runs/{run}/logs/locate", line=101, search="step").json()
    assert loc == {"index": 100, "total": 300}
    assert server.get(f"/runs/{run}/logs/locate", line=50).json() == {"index": 49, "total": 320}
    assert server.get(f"/runs/{run}/logs/locate").status == 400


def test_download_formats(server: Server, run: str) -> None:
    txt = server.get(f"/runs/{run}/logs/download", format="txt")
    assert txt.status == 200
    name = server.get(f"/runs/{run}").json()["name"]  # files are named <project>_<run name>
    assert txt.headers["content-disposition"] == f'attachment; filename="proj_{name}.txt"'
    assert txt.headers["transfer-encoding"] == "chunked"
    rows = txt.body.decode().splitlines()
    assert len(rows) == 320
    assert rows[0] == "2024-11-16T10:00:00.000000Z [ERROR] [stderr] epoch 0 step 0 loss 0.0000 Traceback-free failure"
    js = server.get(f"/runs/{run}/logs/download", format="json")
    assert js.headers["content-type"] == "application/json"
    parsed = json.loads(js.body)
    assert len(parsed) == 320 and parsed[5]["line_number"] == 6 and parsed[5]["writer"] == "main"
    c = server.get(f"/runs/{run}/logs/download", format="csv", level="ERROR")
    table = list(csv.reader(io.StringIO(c.body.decode(), newline="")))
    assert table[0] == ["line_number", "timestamp", "level", "source", "writer", "message"]
    assert len(table) == 31 and table[1][2] == "ERROR"
    bad = server.get(f"/runs/{run}/logs/download", format="pdf")
    assert bad.status == 422 and "pdf" in bad.json()["error"]["message"]


def test_csv_quotes_awkward_messages(server: Server) -> None:
    rid = server.new_run()
    server.batch(rid, ['say "hi", then leave', "plain"])
    c = server.get(f"/runs/{rid}/logs/download", format="csv").body.decode()
    assert '"say ""hi"", then leave"' in c
    assert list(csv.reader(io.StringIO(c, newline="")))[1][5] == 'say "hi", then leave'


def test_csv_neutralises_formula_cells(server: Server) -> None:
    """A log line must never run as a spreadsheet formula (CSV injection)."""
    formulas = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1:A2)",
                "\tcmd", "=1,2"]
    rid = server.new_run()
    server.batch(rid, [*formulas, "plain = fine", "a-b"])
    c = server.get(f"/runs/{rid}/logs/download", format="csv").body.decode()
    rows = list(csv.reader(io.StringIO(c, newline="")))[1:]
    messages = [r[5] for r in rows]
    assert messages[:len(formulas)] == ["'" + f for f in formulas]
    assert messages[len(formulas):] == ["plain = fine", "a-b"]
    for m in messages:
        assert m[0] not in "=+-@\t\r"


def test_big_download_streams_everything(server: Server) -> None:
    rid = server.new_run()
    for b in range(20):
        server.batch(rid, [f"line {b * 10000 + i} " + "x" * 80 for i in range(10000)])
    body = server.get(f"/runs/{rid}/logs/download", format="txt").body
    lines = body.decode().splitlines()
    assert len(lines) == 200000
    assert lines[-1].endswith("line 199999 " + "x" * 80)


def test_clear(server: Server, run: str) -> None:
    assert server.request("DELETE", f"/runs/{run}/logs").status == 204
    assert server.all_lines(run) == []
    assert server.get(f"/runs/{run}/logs/summary").json()["total"] == 0
    # Numbering continues; the writer's seq watermark is kept.
    r = server.batch(run, ["after clear"] * 3, start_seq=299)
    assert r.json()["accepted"] == 2 and r.json()["first_line"] == 321


@pytest.mark.parametrize("path,param,value", [
    ("logs", "before_line", "-9223372036854775808"),
    ("logs", "before_line", "-1"),
    ("logs", "after_line", "9223372036854775807"),
    ("logs", "after_line", "9007199254740992"),
    ("logs", "after_line", "99999999999999999999"),
    ("logs/locate", "line", "-9223372036854775808"),
    ("logs/locate", "line", "9223372036854775807"),
    ("logs", "limit", "-9223372036854775808"),
    ("logs/latest", "limit", "9223372036854775807"),
    ("logs/histogram", "buckets", "-9223372036854775808"),
])
def test_numeric_parameters_at_the_edges_are_422(server: Server, run: str, path: str, param: str,
                                                 value: str) -> None:
    r = server.get(f"/runs/{run}/{path}", **{param: value})
    assert r.status == 422, (param, value, r.body)
    assert r.json()["error"]["code"] == "invalid_value" and param in r.json()["error"]["message"]


def test_line_parameters_inside_the_range_still_work(server: Server, run: str) -> None:
    assert server.get(f"/runs/{run}/logs", before_line="0").json()["logs"] == []
    assert len(server.get(f"/runs/{run}/logs", after_line="0", limit="1000").json()["logs"]) == 320
    top = str(2**53 - 1)
    assert server.get(f"/runs/{run}/logs", after_line=top).json()["logs"] == []
    assert len(server.get(f"/runs/{run}/logs", before_line=top, limit="1000").json()["logs"]) == 320
    assert server.get(f"/runs/{run}/logs/locate", line=top).json() == {"index": 320, "total": 320}
    assert server.get(f"/runs/{run}/logs/locate", line="0").json() == {"index": 0, "total": 320}


def test_locate_by_level_follows_a_growing_and_cleared_run(server: Server) -> None:
    """locate with a level-only filter is answered from a cached per-run index of chunk level
    counts: it must agree with a count of the lines while the run grows and after a clear."""
    rid = server.new_run()
    levels = ["INFO", "ERROR", "INFO", "WARNING", "DEBUG", "ERROR", "INFO"]
    n = 0

    def post(count: int) -> None:
        nonlocal n
        body = [{"message": f"line {n + i}", "level": levels[(n + i) % 7]} for i in range(count)]
        assert server.batch(rid, body).status == 200
        n += count

    def check(level: str) -> None:
        wanted = level.split(",")
        lines = [(l["line_number"], l["level"]) for l in server.all_lines(rid)]
        last = lines[-1][0] if lines else 0
        probes = {1, 2, last // 2, last - 3, last, last + 5} | {ln for ln, _ in lines[::37]}
        for line in sorted(p for p in probes if p >= 1):
            got = server.get(f"/runs/{rid}/logs/locate", line=line, level=level).json()
            before = sum(1 for ln, lv in lines if lv in wanted and ln < line)
            assert got == {"index": before, "total": sum(1 for _, lv in lines if lv in wanted)}, (level, line)

    for _ in range(4):  # a chunk per batch: the index grows with the run
        post(60)
        check("ERROR")
        check("ERROR,WARNING")
    assert server.request("DELETE", f"/runs/{rid}/logs").status in (200, 204)
    check("ERROR")
    post(30)
    check("ERROR")
