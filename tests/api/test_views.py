"""Whole-view reads: GET .../logs/folds and sort=time (interleave by time) on list and locate."""
import pytest

from conftest import Server


def ts(sec: float) -> str:
    whole = int(sec)
    return f"2024-11-16T10:{whole // 60:02d}:{whole % 60:02d}.{int((sec - whole) * 1e6):06d}Z"


@pytest.fixture
def folded(server: Server) -> str:
    """A traceback, a warning with its source line, a multi-line logging record, 5 identical
    progress lines, and plain lines around them."""
    rid = server.new_run()
    lines = [
        "starting",  # 0
        "Traceback (most recent call last):",  # 1
        '  File "train.py", line 10, in <module>',
        "    main()",
        "ValueError: bad value",  # 4
        "train.py:3: UserWarning: old api",  # 5
        '  warnings.warn("old api")',  # 6
        "2024-11-16 10:00:07,000 INFO config:",  # 7
        "lr=0.1",  # 8 (same write as 7)
        "\x1b[33msaving\x1b[0m",  # 9: the same visible text as 10..13
        "saving",
        "saving",
        "saving",
        "saving",  # 13
        "done",  # 14
    ]
    body = []
    for i, m in enumerate(lines):
        body.append({"message": m, "timestamp": ts(7 if i in (7, 8) else i + (0.5 if i > 8 else 0))})
    assert server.batch(rid, body).status == 200
    return rid


def folds_of(server: Server, rid: str, **params: object) -> list[tuple[int, int, str]]:
    r = server.get(f"/runs/{rid}/logs/folds", **params)
    assert r.status == 200, r.body
    j = r.json()
    assert len(j["start"]) == len(j["length"]) == len(j["kind"])
    return list(zip(j["start"], j["length"], j["kind"]))


def test_folds_of_a_run(server: Server, folded: str) -> None:
    r = server.get(f"/runs/{folded}/logs/folds")
    j = r.json()
    assert j["total"] == 15 and j["sort"] == "line" and j["up_to_line"] == 15
    assert folds_of(server, folded) == [(1, 4, "t"), (5, 2, "r"), (7, 2, "r"), (9, 5, "x")]
    # Positions are of the filtered view: without the warning the traceback still folds.
    assert folds_of(server, folded, search="saving") == [(0, 5, "x")]
    # Up to a line: what the view held then.
    assert folds_of(server, folded, up_to_line=11) == [(1, 4, "t"), (5, 2, "r"), (7, 2, "r"), (9, 2, "x")]


def test_folds_of_interleaved_ranks(server: Server) -> None:
    """Two ranks print the same warning; in line order rank 1's batch comes after, in time order
    the lines are adjacent and collapse."""
    rid = server.new_run()
    assert server.batch(rid, [{"message": "warn: slow", "timestamp": ts(1)}, {"message": "a", "timestamp": ts(2)}],
                        writer="rank-0").status == 200
    assert server.batch(rid, [{"message": "warn: slow", "timestamp": ts(1.5)}, {"message": "b", "timestamp": ts(3)}],
                        writer="rank-1").status == 200
    assert folds_of(server, rid) == []
    assert folds_of(server, rid, sort="time") == [(0, 2, "x")]


def holes_of(server: Server, rid: str, **params: object) -> dict[int, list[int]]:
    """Each fold's holes, by the fold's start."""
    j = server.get(f"/runs/{rid}/logs/folds", **params).json()
    assert len(j["holes"]["fold"]) == len(j["holes"]["at"])
    out: dict[int, list[int]] = {}
    for i, at in zip(j["holes"]["fold"], j["holes"]["at"]):
        out.setdefault(j["start"][i], []).append(at)
    return out


def test_ranks_failing_at_once_each_fold_their_traceback(server: Server) -> None:
    """DDP: every rank raises at the same moment and their lines interleave in line order. Each
    rank's traceback is still one fold; the other rank's lines inside its span are its holes."""
    rid = server.new_run()
    tb = ["Traceback (most recent call last):", '  File "train.py", line 40, in <module>',
          "    loss.backward()", "RuntimeError: CUDA out of memory"]
    # Stamped a second apart: lines stamped by the server on arrival would be under a
    # millisecond apart on a fast moment, and a traceback that close to its writer's previous
    # line is that record's logging.exception() (fold_rules.cpp), which this test is not about.
    for rank in (0, 1):
        assert server.batch(rid, [{"message": f"step 9 rank {rank}", "timestamp": ts(rank)}],
                            writer=f"rank-{rank}").status == 200
    for k, text in enumerate(tb):  # one line of each rank at a time, as they arrive
        for rank in (0, 1):
            line = {"message": text, "timestamp": ts(10 + k * 0.0001)}
            assert server.batch(rid, [line], writer=f"rank-{rank}").status == 200
    assert server.batch(rid, [{"message": "after", "timestamp": ts(20)}], writer="launcher").status == 200
    # Positions: 0, 1 the steps; rank 0's traceback at 2, 4, 6, 8, rank 1's at 3, 5, 7, 9.
    assert folds_of(server, rid) == [(2, 7, "t"), (3, 7, "t")]
    assert holes_of(server, rid) == {2: [3, 5, 7], 3: [4, 6, 8]}
    # One rank's view: the traceback is adjacent again, no holes.
    assert folds_of(server, rid, writer="rank-1") == [(1, 4, "t")]
    assert holes_of(server, rid, writer="rank-1") == {}


def test_a_traceback_folds_around_a_progress_line_of_stdout(server: Server) -> None:
    rid = server.new_run()
    def err(m: str) -> dict[str, str]:
        return {"message": m, "source": "stderr"}
    assert server.batch(rid, [err("Traceback (most recent call last):"), "epoch 3: 100%",
                              err('  File "a.py", line 1'), err("KeyError: 'lr'")]).status == 200
    assert folds_of(server, rid) == [(0, 4, "t")]
    assert holes_of(server, rid) == {0: [1]}


def test_sort_time_pages_by_position(server: Server) -> None:
    """Three ranks whose batches arrive out of time order: sort=time interleaves them."""
    rid = server.new_run()
    for rank in (2, 0, 1):
        batch = [{"message": f"r{rank} step {k}", "timestamp": ts(k * 3 + rank)} for k in range(20)]
        assert server.batch(rid, batch, writer=f"rank-{rank}").status == 200
    lines = server.all_lines(rid)
    stamps = [x["timestamp"] for x in lines]
    assert stamps != sorted(stamps)  # inversions in line order
    expected = sorted(lines, key=lambda x: (x["timestamp"], x["line_number"]))
    got: list[dict] = []
    offset = 0
    while True:
        r = server.get(f"/runs/{rid}/logs", sort="time", offset=offset, limit=7)
        assert r.status == 200, r.body
        page = r.json()
        assert page["offset"] == offset and page["total"] == 60 and page["up_to_line"] == 60
        got += page["logs"]
        offset += len(page["logs"])
        if not page["has_more"]:
            break
    assert [x["line_number"] for x in got] == [x["line_number"] for x in expected]
    assert [x["message"] for x in got[:4]] == ["r0 step 0", "r1 step 0", "r2 step 0", "r0 step 1"]
    # locate: the position of a line in time order
    for pos in (0, 17, 59):
        r = server.get(f"/runs/{rid}/logs/locate", sort="time", line=expected[pos]["line_number"])
        assert r.json() == {"index": pos, "total": 60, "up_to_line": 60}
    # Filters apply first; positions are among the matching lines.
    r = server.get(f"/runs/{rid}/logs", sort="time", writer="rank-1,rank-2", limit=3)
    assert [x["message"] for x in r.json()["logs"]] == ["r1 step 0", "r2 step 0", "r1 step 1"]
    assert r.json()["total"] == 40
    # A line the view does not hold locates to the next line number it holds.
    rank0_first = min(x["line_number"] for x in lines if x["writer"] == "rank-0")
    r = server.get(f"/runs/{rid}/logs/locate", sort="time", writer="rank-1", line=rank0_first)
    first_rank1 = min(x["line_number"] for x in lines if x["writer"] == "rank-1")
    assert r.json()["index"] == 0 and first_rank1 == rank0_first + 20


def test_a_live_view_stays_the_same_while_paged(server: Server) -> None:
    rid = server.new_run()
    assert server.batch(rid, [{"message": f"a{i}", "timestamp": ts(10 + i)} for i in range(5)]).status == 200
    first = server.get(f"/runs/{rid}/logs", sort="time", limit=2).json()
    assert first["up_to_line"] == 5
    # An earlier-stamped line arrives: a view up to line 5 does not move.
    assert server.batch(rid, [{"message": "early", "timestamp": ts(1)}]).status == 200
    again = server.get(f"/runs/{rid}/logs", sort="time", offset=0, limit=2, up_to_line=5).json()
    assert [x["message"] for x in again["logs"]] == ["a0", "a1"] and again["total"] == 5
    fresh = server.get(f"/runs/{rid}/logs", sort="time", limit=2).json()
    assert [x["message"] for x in fresh["logs"]] == ["early", "a0"] and fresh["up_to_line"] == 6
    # A larger up_to_line is clamped to the run's last line.
    assert server.get(f"/runs/{rid}/logs/folds", up_to_line=10**9).json()["up_to_line"] == 6
    # A clear forgets cached views.
    assert server.request("DELETE", f"/runs/{rid}/logs").status == 204
    assert server.get(f"/runs/{rid}/logs", sort="time", up_to_line=5).json()["logs"] == []


@pytest.mark.parametrize(
    "path, params, needle",
    [
        ("logs", {"sort": "random"}, "sort"),
        ("logs", {"sort": "time", "after_line": 3}, "after_line"),
        ("logs", {"sort": "time", "order": "desc"}, "order"),
        ("logs", {"sort": "time", "search": "x", "context": 2}, "context"),
        ("logs", {"sort": "time", "offset": -1}, "offset"),
        ("logs", {"sort": "time", "offset": "abc"}, "offset"),
        ("logs", {"offset": 5}, "offset"),
        ("logs", {"sort": "time", "limit": 0}, "limit"),
        ("logs", {"sort": "time", "up_to_line": "1e3"}, "up_to_line"),
        ("logs/locate", {"sort": "time", "line": 1, "context": 1, "search": "x"}, "context"),
        ("logs/locate", {"sort": "sideways", "line": 1}, "sort"),
        ("logs/folds", {"sort": "backwards"}, "sort"),
        ("logs/folds", {"search": "x", "context": 1}, "context"),
        ("logs/folds", {"regex": "(unclosed"}, "missing )"),
        ("logs/folds", {"level": "LOUD"}, "LOUD"),
        ("logs/folds", {"up_to_line": -4}, "up_to_line"),
    ],
)
def test_bad_parameters_are_422_with_a_clear_message(server: Server, folded: str, path: str, params: dict,
                                                     needle: str) -> None:
    r = server.get(f"/runs/{folded}/{path}", **params)
    assert 400 <= r.status < 500, (r.status, r.body)
    assert needle in r.json()["error"]["message"], r.body


def test_unknown_run_is_404(server: Server) -> None:
    for path in ("logs/folds", "logs?sort=time", "logs/locate?sort=time&line=1"):
        r = server.request("GET", f"/runs/00000000-0000-0000-0000-000000000000/{path}")
        assert r.status == 404, (path, r.body)


def test_empty_run(server: Server) -> None:
    rid = server.new_run()
    assert server.get(f"/runs/{rid}/logs/folds").json() == {
        "total": 0, "up_to_line": 0, "sort": "line", "start": [], "length": [], "kind": "",
        "holes": {"fold": [], "at": []}}
    page = server.get(f"/runs/{rid}/logs", sort="time").json()
    assert page["logs"] == [] and page["total"] == 0 and page["has_more"] is False
