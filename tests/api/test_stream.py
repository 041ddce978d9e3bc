"""The live tail over a real WebSocket: backlog, resume, filters, latency, control frames."""
import json
import threading
import time
import urllib.parse
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from conftest import Server


def ws(server: Server, run_id: str, query: str = "") -> ClientConnection:
    return connect(f"ws://127.0.0.1:{server.port}/api/v1/runs/{run_id}/logs/stream{query}",
                   open_timeout=5, max_size=None)


def recv(conn: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    return json.loads(conn.recv(timeout=timeout))


def collect_lines(conn: ClientConnection, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        frame = recv(conn, max(0.01, deadline - time.monotonic()))
        if frame["type"] == "logs":
            out += frame["logs"]
    return out


def test_backlog_is_last_500_then_live(server: Server) -> None:
    rid = server.new_run()
    server.batch(rid, [f"old {i}" for i in range(600)])
    with ws(server, rid) as c:
        first = recv(c)
        assert first["type"] == "logs"
        assert [x["line_number"] for x in first["logs"]] == list(range(101, 601))
        server.batch(rid, ["new 1", "new 2"])
        live = collect_lines(c, 2)
        assert [x["message"] for x in live] == ["new 1", "new 2"]
        assert live[0]["line_number"] == 601 and live[0]["run_id"] == rid


def test_empty_backlog_frame_comes_first(server: Server) -> None:
    rid = server.new_run()
    with ws(server, rid, "?tail=10") as c:
        assert recv(c) == {"type": "logs", "logs": []}


def test_resume_after_line_gets_exactly_the_missed_lines(server: Server) -> None:
    rid = server.new_run()
    server.batch(rid, [f"l{i}" for i in range(50)])
    with ws(server, rid) as c:
        seen = recv(c)["logs"]
    last_seen = seen[-1]["line_number"]
    server.batch(rid, [f"missed {i}" for i in range(30)])
    with ws(server, rid, f"?after_line={last_seen}") as c:
        got = collect_lines(c, 30)
        assert [x["message"] for x in got] == [f"missed {i}" for i in range(30)]
        server.batch(rid, ["live"])
        assert collect_lines(c, 1)[0]["line_number"] == 81


def test_resume_from_long_ago_comes_in_frames(server: Server) -> None:
    rid = server.new_run()
    for b in range(3):
        server.batch(rid, [f"b{b} {i}" for i in range(5000)])
    with ws(server, rid, "?after_line=0") as c:
        got = collect_lines(c, 15000, timeout=20)
    assert [x["line_number"] for x in got] == list(range(1, 15001))


def test_filters_apply_to_backlog_and_live(server: Server) -> None:
    rid = server.new_run()
    server.batch(rid, ["ERROR:root:old bad", "fine", "WARNING:root:meh"])
    with ws(server, rid, "?level=ERROR,WARNING&search=ba") as c:
        assert [x["message"] for x in recv(c)["logs"]] == ["ERROR:root:old bad"]
        server.batch(rid, ["fine too", "ERROR:root:new bad", "ERROR:root:other"])
        got = collect_lines(c, 1)
        assert [x["message"] for x in got] == ["ERROR:root:new bad"]
        with pytest.raises(TimeoutError):
            c.recv(timeout=0.3)


def test_regex_filter_and_bad_regex(server: Server) -> None:
    rid = server.new_run()
    with ws(server, rid, "?regex=%5Estep%20%5Cd%2B%24") as c:  # ^step \d+$
        recv(c)
        server.batch(rid, ["step 1", "step x", "a step 2"])
        assert [x["message"] for x in collect_lines(c, 1)] == ["step 1"]
    with ws(server, rid, "?regex=(bad") as c:
        frame = recv(c)
        assert frame["type"] == "error" and frame["error"]["code"] == "invalid_value"


def test_latency_within_100ms_of_commit(server: Server) -> None:
    rid = server.new_run()
    with ws(server, rid) as c:
        recv(c)
        delays = []
        for i in range(20):
            t0 = time.monotonic()
            server.batch(rid, [f"ping {i}"])  # returns after the commit
            collect_lines(c, 1)
            delays.append(time.monotonic() - t0)
            time.sleep(0.06)
        delays.sort()
        assert delays[len(delays) // 2] < 0.1, delays
        assert delays[-1] < 1.0, delays


def test_ping_pong_run_state_and_cleared(server: Server) -> None:
    rid = server.new_run()
    with ws(server, rid) as c:
        recv(c)
        c.send(json.dumps({"type": "ping"}))
        assert recv(c) == {"type": "pong"}
        server.request("PATCH", f"/runs/{rid}", {"state": "finished", "exit_code": 0})
        assert recv(c) == {"type": "run", "state": "finished", "exit_code": 0}
        server.batch(rid, ["x"])
        collect_lines(c, 1)
        server.request("DELETE", f"/runs/{rid}/logs")
        assert recv(c) == {"type": "cleared"}
        server.batch(rid, ["after clear"])
        assert collect_lines(c, 1)[0]["line_number"] == 2


def test_unknown_run_refuses_upgrade(server: Server) -> None:
    with pytest.raises(InvalidStatus) as e:
        ws(server, "00000000-0000-4000-8000-000000000000")
    assert e.value.response.status_code == 404


def test_many_viewers_each_get_every_line_once(server: Server) -> None:
    rid = server.new_run()
    conns = [ws(server, rid) for _ in range(20)]
    for c in conns:
        recv(c)

    def producer() -> None:
        for b in range(20):
            server.batch(rid, [f"{b}-{i}" for i in range(50)])
            time.sleep(0.01)

    t = threading.Thread(target=producer)
    t.start()
    for c in conns:
        got = collect_lines(c, 1000)
        assert [x["line_number"] for x in got] == list(range(1, 1001))
    t.join()
    for c in conns:
        c.close()


def test_stalled_viewer_catches_up_from_cursor(server: Server) -> None:
    rid = server.new_run()
    with ws(server, rid) as slow:
        recv(slow)
        # Don't read for a while: the server must not queue frames for us.
        for b in range(12):
            server.batch(rid, [f"{b}-{i} " + "y" * 200 for i in range(5000)])
        got = collect_lines(slow, 60000, timeout=30)
        assert [x["line_number"] for x in got] == list(range(1, 60001))


def test_progress_updates_reach_viewers_throttled_and_are_not_stored(server: Server) -> None:
    rid = server.new_run()
    with ws(server, rid) as c, ws(server, rid, "?source=stderr") as only_stderr:
        recv(c)
        recv(only_stderr)
        r = server.post(f"/runs/{rid}/logs/progress", {"message": "epoch 1:  10%|#         |", "writer": "rank-0"})
        assert r.status == 202 and r.json() == {"throttled": False, "viewers": 2}
        frame = recv(c)
        assert frame["type"] == "progress" and frame["message"] == "epoch 1:  10%|#         |"
        assert frame["writer"] == "rank-0" and frame["source"] == "stdout"
        # At most four a second per stream: the rest are dropped, not queued.
        throttled = [server.post(f"/runs/{rid}/logs/progress", {"message": f"{i}%", "writer": "rank-0"})
                     .json()["throttled"] for i in range(10)]
        assert all(throttled)
        time.sleep(0.3)
        assert not server.post(f"/runs/{rid}/logs/progress",
                               {"message": "epoch 1: 100%|##########|", "writer": "rank-0"}).json()["throttled"]
        assert recv(c)["message"] == "epoch 1: 100%|##########|"
        # The completed line arrives as a normal line after its last progress state.
        server.batch(rid, [{"message": "epoch 1: 100%|##########|"}], writer="rank-0")
        assert collect_lines(c, 1)[0]["message"] == "epoch 1: 100%|##########|"
        # The stderr-only viewer saw none of it.
        with pytest.raises(TimeoutError):
            only_stderr.recv(timeout=0.3)
    assert len(server.all_lines(rid)) == 1
    assert server.post(f"/runs/{rid}/logs/progress", {"message": 5}).status == 400
    assert server.post("/runs/00000000-0000-4000-8000-000000000000/logs/progress",
                       {"message": "x"}).status == 404


def test_progress_state_of_several_rows_reaches_viewers_whole(server: Server) -> None:
    """Nested bars and rich.progress are live displays of several rows: one state, rows joined."""
    rid = server.new_run()
    with ws(server, rid) as c:
        recv(c)
        state = "epoch:  33%|###       | 1/3\nbatch:  50%|#####     | 5/10"
        assert server.post(f"/runs/{rid}/logs/progress", {"message": state}).status == 202
        frame = recv(c)
        assert frame["type"] == "progress" and frame["message"] == state
    assert server.all_lines(rid) == []


@pytest.mark.parametrize("pattern", ["^$", "(?m)^$", "^\\d*$", "\\B", "(?-m)$"])
def test_empty_matching_regexes_answer_everywhere(server: Server, pattern: str) -> None:
    """Once, these patterns over a 2,000-line run crashed the server (a match past a chunk's last
    line was written out of bounds) or spun a worker forever, on every endpoint that filters."""
    rid = server.new_run()
    messages = ["" if i % 10 == 0 else f"step {i}" for i in range(2000)]
    for start in range(0, 2000, 500):
        assert server.batch(rid, messages[start:start + 500]).status == 200
    expected = {"^$": 200, "(?m)^$": 200, "^\\d*$": 200, "\\B": 2000, "(?-m)$": 2000}[pattern]
    r = server.get(f"/runs/{rid}/logs", regex=pattern, limit=5000)
    assert r.status == 200 and len(r.json()["logs"]) == expected
    assert server.get(f"/runs/{rid}/logs/latest", regex=pattern).status == 200
    assert server.get(f"/runs/{rid}/logs/histogram", regex=pattern).status == 200
    loc = server.get(f"/runs/{rid}/logs/locate", regex=pattern, line=1000)
    assert loc.status == 200 and loc.json()["total"] == expected
    d = server.get(f"/runs/{rid}/logs/download", regex=pattern, format="txt")
    assert d.status == 200 and len(d.body.decode().splitlines()) == expected
    q = "?regex=" + urllib.parse.quote(pattern) + "&after_line=0"
    with ws(server, rid, q) as c:
        assert len(collect_lines(c, expected)) == expected
    assert server.get("/health").status == 200


def test_after_line_out_of_range_is_an_error_frame(server: Server) -> None:
    rid = server.new_run()
    for value in ("-9223372036854775808", "9223372036854775807"):
        with ws(server, rid, f"?after_line={value}") as c:
            frame = recv(c)
            assert frame["type"] == "error" and frame["error"]["code"] == "invalid_value", frame
            assert "after_line" in frame["error"]["message"]


def test_small_batches_posted_faster_than_frames_go_out_share_frames(server: Server) -> None:
    """Frames are paced (one per ~50 ms). A run committing many small batches a second must not
    be sent one batch per frame: the viewer then fell further behind with every batch (a live
    run posting 40 one-line batches a second was seconds behind after a minute)."""
    rid = server.new_run()
    with ws(server, rid) as c:
        assert recv(c)["logs"] == []
        frames = 0
        for i in range(200):
            assert server.batch(rid, [f"b{i}"]).status == 200
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while len(got) < 200:
            frame = recv(c, max(0.01, deadline - time.monotonic()))
            if frame["type"] == "logs":
                frames += 1
                got += frame["logs"]
    assert [x["message"] for x in got] == [f"b{i}" for i in range(200)]
    # One frame per batch only if every post took longer than the pacing interval (50 ms):
    # 200 posts would then take 10 s.
    assert frames < 200, frames
