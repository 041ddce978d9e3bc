"""Ingest: single lines, batches, dedup by seq, level detection, UTF-8 repair, splitting, limits,
and that a refused request stores nothing."""
import json

from conftest import Server


def test_single_line(server: Server) -> None:
    rid = server.new_run()
    r = server.post(f"/runs/{rid}/logs", {"message": "hello", "level": "warning"})
    assert r.status == 201
    line = r.json()
    assert line["line_number"] == 1
    assert line["level"] == "WARNING" and line["source"] == "user" and line["writer"] == "main"
    assert line["run_id"] == rid and line["timestamp"].endswith("Z")
    r = server.post(f"/runs/{rid}/logs", {"message": "t", "timestamp": "2024-11-16T10:00:00.5Z",
                                         "source": "sdk", "writer": "rank-1"})
    assert r.json()["timestamp"] == "2024-11-16T10:00:00.500000Z"
    assert r.json()["writer"] == "rank-1" and r.json()["line_number"] == 2


def test_batch_numbers_lines_densely_and_dedups_retries(server: Server) -> None:
    rid = server.new_run()
    r = server.batch(rid, [f"line {i}" for i in range(100)], start_seq=0)
    assert r.json() == {"accepted": 100, "duplicates": 0, "first_line": 1, "last_line": 100}
    again = server.batch(rid, [f"line {i}" for i in range(100)], start_seq=0)
    assert again.json() == {"accepted": 0, "duplicates": 100, "first_line": None, "last_line": None}
    overlap = server.batch(rid, [f"line {i}" for i in range(50, 150)], start_seq=50)
    assert overlap.json()["accepted"] == 50 and overlap.json()["first_line"] == 101
    other = server.batch(rid, ["from rank 1"], writer="rank-1", start_seq=0)
    assert other.json()["accepted"] == 1
    lines = server.all_lines(rid)
    assert [x["line_number"] for x in lines] == list(range(1, 152))
    assert [x["message"] for x in lines[:150]] == [f"line {i}" for i in range(150)]
    assert lines[-1]["writer"] == "rank-1"
    # Lines without seq are always stored.
    server.batch(rid, ["no seq"])
    server.batch(rid, ["no seq"])
    assert server.get(f"/runs/{rid}/logs/summary").json()["total"] == 153


def test_batch_defaults_and_timestamps(server: Server) -> None:
    rid = server.new_run()
    server.batch(rid, [{"message": "a"}, {"message": "b", "source": "stderr", "timestamp": 1731751200.25},
                       {"message": "c", "timestamp": "2024-11-16T12:00:00+02:00", "level": "DEBUG"}])
    a, b, c = server.all_lines(rid)
    assert a["source"] == "stdout" and a["level"] == "INFO"
    assert b["source"] == "stderr" and b["timestamp"] == "2024-11-16T10:00:00.250000Z"
    assert c["timestamp"] == "2024-11-16T10:00:00.000000Z" and c["level"] == "DEBUG"


def test_level_detection_by_layout(server: Server) -> None:
    rid = server.new_run()
    msgs = [
        "WARNING:root:low disk",
        "2024-11-16 10:00:00,123 - trainer - ERROR - loss is nan",
        "E0102 15:04:05.123456  1234 file.cc:12] failed",
        "[DEBUG] tick",
        "ts=1 level=critical msg=boom",
        "GET https://example.com/error 200",
        "Traceback (most recent call last):",
        '  File "train.py", line 1, in <module>',
        "ZeroDivisionError: division by zero",
        "epoch 1 done",
    ]
    server.batch(rid, msgs)
    levels = [x["level"] for x in server.all_lines(rid)]
    assert levels == ["WARNING", "ERROR", "ERROR", "DEBUG", "CRITICAL", "INFO",
                      "ERROR", "ERROR", "ERROR", "INFO"]
    # The explicit level wins over the layout.
    server.batch(rid, [{"message": "ERROR:root:but said info", "level": "INFO"}])
    assert server.all_lines(rid)[-1]["level"] == "INFO"


def test_traceback_state_spans_batches(server: Server) -> None:
    rid = server.new_run()
    server.batch(rid, [{"message": "Traceback (most recent call last):", "source": "stderr"}])
    server.batch(rid, [{"message": "  File \"x.py\", line 2", "source": "stderr"},
                       {"message": "ValueError: bad", "source": "stderr"},
                       {"message": "next", "source": "stderr"}])
    assert [x["level"] for x in server.all_lines(rid)] == ["ERROR", "ERROR", "ERROR", "INFO"]


def test_invalid_utf8_is_replaced_not_rejected(server: Server) -> None:
    rid = server.new_run()
    body = b'{"logs": [{"message": "bad \xff byte \xe2\x82 end"}]}'
    r = server.request("POST", f"/runs/{rid}/logs/batch", raw=body)
    assert r.status == 200, r.body
    assert server.all_lines(rid)[0]["message"] == "bad \ufffd byte \ufffd end"


def test_newlines_and_long_lines_are_split(server: Server) -> None:
    rid = server.new_run()
    long = "é" * 40000  # 80,000 bytes
    server.batch(rid, ["one\ntwo\r\nthree", long], start_seq=0)
    lines = server.all_lines(rid)
    assert [x["message"] for x in lines[:3]] == ["one", "two", "three"]
    pieces = [x["message"] for x in lines[3:]]
    assert len(pieces) == 2 and "".join(pieces) == long
    assert all(len(p.encode()) <= 65536 for p in pieces)
    # A retry of the same batch stores none of the pieces again.
    r = server.batch(rid, ["one\ntwo\r\nthree", long], start_seq=0)
    assert r.json()["accepted"] == 0
    assert len(server.all_lines(rid)) == 5


def test_bad_batches_store_nothing(server: Server) -> None:
    rid = server.new_run()
    server.batch(rid, ["before"])
    cases = [
        ({"logs": [{"message": "ok"}, {"message": 5}]}, 400, "logs[1].message"),
        ({"logs": [{"message": "ok"}, {"level": "LOUD NOISE", "message": "x"}]}, 422, "LOUD NOISE"),
        ({"logs": [{"message": "x", "source": "radio"}]}, 422, "radio"),
        ({"logs": [{"message": "x", "timestamp": "yesterday"}]}, 422, "yesterday"),
        ({"logs": [{"message": "x", "seq": -1}]}, 422, "seq"),
        ({"logs": [{"message": "x", "seq": "1"}]}, 400, "seq"),
        ({"logs": "nope"}, 400, "logs"),
        ({}, 400, "logs"),
        ([1, 2], 400, "object"),
        ({"writer": 7, "logs": []}, 400, "writer"),
    ]
    for body, status, word in cases:
        r = server.post(f"/runs/{rid}/logs/batch", body)
        assert r.status == status, (body, r.body)
        err = r.json()["error"]
        assert word in err["message"], (body, err)
        assert err["code"] in ("bad_request", "invalid_value")
    r = server.request("POST", f"/runs/{rid}/logs/batch", raw=b'{"logs": [{"message": "x"}')
    assert r.status == 400 and r.json()["error"]["code"] == "malformed_json"
    assert "byte" in r.json()["error"]["message"]
    assert [x["message"] for x in server.all_lines(rid)] == ["before"]


def test_limits(server: Server) -> None:
    rid = server.new_run()
    r = server.batch(rid, ["x"] * 10001)
    assert r.status == 413 and "10000" in r.json()["error"]["message"]
    big = json.dumps({"logs": [{"message": "y" * 60000}] * 290}).encode()  # ~17 MB
    assert len(big) > 16 * 1024 * 1024
    r = server.request("POST", f"/runs/{rid}/logs/batch", raw=big)
    assert r.status == 413
    assert server.get(f"/runs/{rid}/logs/summary").json()["total"] == 0
    assert server.batch(rid, ["x"] * 10000).json()["accepted"] == 10000


def test_line_cap_counts_lines_after_splitting(server: Server) -> None:
    rid = server.new_run()
    batch = f"/runs/{rid}/logs/batch"
    # Exactly 10,000 stored lines pass (a trailing newline adds no line) ...
    r = server.post(batch, {"logs": [{"message": "a\n" * 10000}]})
    assert r.status == 200 and r.json()["accepted"] == 10000, r.body
    server.request("DELETE", f"/runs/{rid}/logs")
    # ... one more does not, whether in one message, across entries, or in a single-line POST.
    for path, body in [(batch, {"logs": [{"message": "a\n" * 10000 + "b"}]}),
                       (batch, {"logs": [{"message": "a\n" * 5000}, {"message": "b\n" * 5000},
                                         {"message": "c"}]}),
                       (batch, {"logs": [{"message": "x"}] * 9999 + [{"message": "y\nz"}]}),
                       (f"/runs/{rid}/logs", {"message": "a\n" * 10001})]:
        r = server.post(path, body)
        assert r.status == 413 and r.json()["error"]["code"] == "too_large", r.body
        assert "after splitting" in r.json()["error"]["message"]
    # A body of nothing but newlines (8 million of them) is refused, not stored.
    flood = b'{"logs":[{"message":"' + b"\\n" * (8 * 1024 * 1024 - 16) + b'"}]}'
    r = server.request("POST", batch, raw=flood)
    assert r.status == 413, r.body
    assert server.get(f"/runs/{rid}/logs/summary").json()["total"] == 0


def test_byte_cap_counts_repaired_text(server: Server) -> None:
    rid = server.new_run()
    # 6 MiB of invalid bytes become 18 MiB of U+FFFD: over the 16 MiB of text a request may store.
    body = b'{"logs":[{"message":"' + b"\xff" * (6 * 1024 * 1024) + b'"}]}'
    r = server.request("POST", f"/runs/{rid}/logs/batch", raw=body)
    assert r.status == 413 and "MiB" in r.json()["error"]["message"], r.body
    assert server.get(f"/runs/{rid}/logs/summary").json()["total"] == 0


def test_unknown_run_is_404(server: Server) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for method, path, body in [("POST", f"/runs/{missing}/logs/batch", {"logs": [{"message": "x"}]}),
                               ("POST", f"/runs/{missing}/logs", {"message": "x"}),
                               ("GET", f"/runs/{missing}/logs", None),
                               ("GET", f"/runs/{missing}/logs/latest", None),
                               ("GET", f"/runs/{missing}/logs/summary", None),
                               ("GET", f"/runs/{missing}/logs/download", None),
                               ("DELETE", f"/runs/{missing}/logs", None)]:
        r = server.request(method, path, body)
        assert r.status == 404, (method, path, r.body)
        assert r.json()["error"]["code"] == "not_found"
