"""Problems found for you (doc/problems.md), end to end through the real server on both stores:
the corpus of real failure output in tests/vectors/problems/, ranks folded into one event,
tracebacks across batches, the project view, the runs list's top problem, project rules (and
hostile ones), deleting and clearing, and stalled runs."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from conftest import Server, wait_until

CORPUS = Path(__file__).resolve().parents[1] / "vectors" / "problems"
CASES = sorted(p.stem for p in CORPUS.glob("*.txt"))


def expected(name: str) -> list[tuple[str, int, int, str]]:
    out = []
    for line in (CORPUS / f"{name}.expect").read_text().splitlines():
        if not line.strip():
            continue
        kind, first, last, *title = line.split(" ", 3)
        out.append((kind, int(first), int(last), title[0] if title else ""))
    return out


def corpus_lines(name: str) -> list[str]:
    return (CORPUS / f"{name}.txt").read_text().splitlines()


def problems(server: Server, run: str) -> list[dict[str, Any]]:
    r = server.get(f"/runs/{run}/problems")
    assert r.status == 200, r.body
    return r.json()["problems"]


@pytest.mark.parametrize("name", CASES)
def test_corpus_through_the_server(server: Server, name: str) -> None:
    run = server.new_run()
    r = server.batch(run, corpus_lines(name), writer="rank-0")
    assert r.status == 200, r.body
    got = problems(server, run)
    want = expected(name)
    assert [(p["kind"], p["first_line"], p["last_line"]) for p in got] == \
        [(k, f, l) for k, f, l, _ in want]
    for p, (_, _, _, title) in zip(got, want):
        assert p["title"].startswith(title)
        assert p["writer_count"] == 1
        assert p["writers"][0]["writer"] == "rank-0"


def test_event_shape_with_innermost_frame(server: Server) -> None:
    run = server.new_run()
    server.batch(run, corpus_lines("cuda_oom_torch2"))
    [p] = problems(server, run)
    assert p["kind"] == "cuda_oom" and p["level"] == "ERROR"
    assert "modeling_llama.py\", line 346, in forward" in p["detail"]
    assert p["occurrences"] == 1
    assert p["first_timestamp"].endswith("Z") and p["detected_at"].endswith("Z")
    # The line range is the stored lines of the traceback.
    lines = server.all_lines(run)
    assert lines[p["first_line"] - 1]["message"].startswith("Traceback")
    assert lines[p["last_line"] - 1]["message"].startswith("torch.cuda.OutOfMemoryError")


def test_same_problem_on_eight_ranks_is_one_event(server: Server) -> None:
    run = server.new_run()
    firsts = {}
    for rank in range(8):
        r = server.batch(run, [f"step {rank}", *corpus_lines("nccl_legacy_watchdog")],
                         writer=f"rank-{rank}")
        firsts[f"rank-{rank}"] = r.json()["first_line"] + 1
    [p] = problems(server, run)
    assert p["kind"] == "nccl_timeout"
    assert p["writer_count"] == 8
    assert {w["writer"]: w["first_line"] for w in p["writers"]} == firsts
    assert p["first_line"] == firsts["rank-0"]
    assert p["occurrences"] == 16  # two matching lines on every rank


def test_traceback_split_across_batches(server: Server) -> None:
    run = server.new_run()
    lines = corpus_lines("disk_full")
    server.batch(run, lines[:3], start_seq=0)
    assert problems(server, run) == []  # still open
    server.batch(run, lines[3:], start_seq=3)
    [p] = problems(server, run)
    assert (p["kind"], p["last_line"]) == ("disk_full", 5)
    assert p["title"].startswith("OSError: [Errno 28]")


def test_lines_with_explicit_levels_are_scanned_too(server: Server) -> None:
    # logging.exception() through the SDK: the record's lines carry their level.
    run = server.new_run()
    msg = "\n".join(["failed step", *corpus_lines("assertion")])
    r = server.batch(run, [{"message": msg, "level": "ERROR", "source": "sdk"}])
    assert r.status == 200
    [p] = problems(server, run)
    assert (p["kind"], p["first_line"], p["last_line"]) == ("assertion", 2, 5)


def test_retried_batch_counts_once(server: Server) -> None:
    run = server.new_run()
    for _ in range(3):
        server.batch(run, ["x", "loss = nan"], start_seq=0)
    [p] = problems(server, run)
    assert p["occurrences"] == 1


def test_single_line_post_is_scanned(server: Server) -> None:
    run = server.new_run()
    r = server.post(f"/runs/{run}/logs", {"message": "OSError: [Errno 28] No space left on device"})
    assert r.status == 201
    assert [p["kind"] for p in problems(server, run)] == ["disk_full"]


def test_project_view_and_runs_list(server: Server) -> None:
    oom = server.new_run("vision", name="oom")
    nan = server.new_run("vision", name="nan")
    clean = server.new_run("vision", name="clean")
    other = server.new_run("nlp", name="elsewhere")
    server.batch(oom, [*corpus_lines("nan_loss"), *corpus_lines("cuda_oom_legacy")])
    server.batch(nan, corpus_lines("nan_loss"))
    server.batch(clean, ["all good"])
    server.batch(other, corpus_lines("cuda_oom_legacy"))

    r = server.get("/projects/vision/problems", kind="cuda_oom", since="7d")
    assert r.status == 200, r.body
    body = r.json()
    assert [(e["run"]["id"], e["problem"]["kind"]) for e in body["problems"]] == [(oom, "cuda_oom")]
    assert body["run_count"] == 1
    assert body["problems"][0]["run"]["name"] == "oom"
    everything = server.get("/projects/vision/problems").json()["problems"]
    assert sorted((e["run"]["name"], e["problem"]["kind"]) for e in everything) == [
        ("nan", "nan_loss"), ("oom", "cuda_oom"), ("oom", "nan_loss")]
    future = server.get("/projects/vision/problems", since="2999-01-01T00:00:00Z").json()
    assert future["problems"] == []

    assert server.get("/projects/vision/problems", kind="nope").status == 422
    assert server.get("/projects/vision/problems", since="yesterday").status == 422
    assert server.get("/projects/vision/problems", limit=0).status == 422
    assert server.get("/projects/missing/problems").status == 404

    runs = {r["name"]: r for r in server.get("/runs", project="vision").json()["runs"]}
    assert runs["oom"]["top_problem"]["kind"] == "cuda_oom"  # worse than the NaN before it
    assert runs["nan"]["top_problem"]["kind"] == "nan_loss"
    assert runs["nan"]["top_problem"]["first_line"] == 2
    assert runs["clean"]["top_problem"] is None


def test_a_run_keeps_at_most_1000_problem_signatures(server: Server) -> None:
    """A run printing a new error again and again: 1,000 distinct signatures are stored, the
    rest are counted (truncated, dropped) — and a known signature on another rank still is."""
    run = server.new_run("spam")
    def traceback(i: int) -> list[str]:
        return ["Traceback (most recent call last):", '  File "t.py", line 1, in <module>',
                f"E{i}Error: boom"]
    for start in range(0, 1010, 50):  # a batch reports at most 64 problems
        lines = [x for i in range(start, min(1010, start + 50)) for x in traceback(i)]
        assert server.batch(run, lines).status == 200
    assert server.batch(run, traceback(0), writer="rank-1").status == 200
    body = server.get(f"/runs/{run}/problems").json()
    assert body["count"] == 1000 and body["truncated"] is True and body["dropped"] == 10
    e0 = next(p for p in body["problems"] if p["title"].startswith("E0Error"))
    assert e0["writer_count"] == 2
    other = server.new_run("spam")
    server.batch(other, traceback(0))
    body = server.get(f"/runs/{other}/problems").json()
    assert body["truncated"] is False and body["dropped"] == 0


def test_unknown_run(server: Server) -> None:
    r = server.get("/runs/00000000-0000-4000-8000-000000000000/problems")
    assert r.status == 404


def test_delete_and_clear_drop_problems(server: Server) -> None:
    run = server.new_run()
    server.batch(run, corpus_lines("segfault"))
    assert problems(server, run)
    assert server.request("DELETE", f"/runs/{run}/logs").status == 204
    assert problems(server, run) == []
    server.batch(run, corpus_lines("segfault"))
    assert [p["kind"] for p in problems(server, run)] == ["segfault"]
    assert server.request("DELETE", f"/runs/{run}").status == 204
    # The same id made again starts with no problems of the deleted run.
    again = server.new_run(id=run)
    assert again == run
    assert problems(server, run) == []


def test_project_rules(server: Server) -> None:
    run = server.new_run("rules")
    r = server.get("/projects/rules/problem-settings")
    assert r.status == 200
    body = r.json()
    assert body["stall_after_seconds"] == 900 and body["rules"] == []
    assert {b["name"] for b in body["builtin_rules"]} >= {"cuda_oom", "nccl_timeout", "nan_loss"}

    r = server.post("/projects/rules/problem-rules",
                    {"name": "loader-died", "regex": r"DataLoader worker \(pid \d+\)",
                     "level": "WARNING"})
    assert r.status == 201, r.body
    assert r.json()["rules"] == [{"name": "loader-died", "regex": r"DataLoader worker \(pid \d+\)",
                                  "level": "WARNING"}]
    server.batch(run, ["ok", "RuntimeError: DataLoader worker (pid 4242) is killed by signal"])
    [p] = [p for p in problems(server, run) if p["kind"] == "custom"]
    assert (p["rule"], p["level"], p["first_line"]) == ("loader-died", "WARNING", 2)

    # Replaced by name, then deleted.
    r = server.post("/projects/rules/problem-rules", {"name": "loader-died", "regex": "zzz"})
    assert r.status == 201 and r.json()["rules"][0]["regex"] == "zzz"
    assert server.request("DELETE", "/projects/rules/problem-rules/loader-died").status == 204
    assert server.request("DELETE", "/projects/rules/problem-rules/loader-died").status == 404
    assert server.get("/projects/rules/problem-settings").json()["rules"] == []

    r = server.request("PUT", "/projects/rules/problem-settings",
                       {"stall_after_seconds": 60, "rules": [{"name": "a", "regex": "x+y"}]})
    assert r.status == 200, r.body
    assert r.json()["stall_after_seconds"] == 60
    assert r.json()["rules"] == [{"name": "a", "regex": "x+y", "level": "ERROR"}]
    # A PUT without rules keeps them.
    r = server.request("PUT", "/projects/rules/problem-settings", {"stall_after_seconds": 30})
    assert r.json()["rules"][0]["name"] == "a"


@pytest.mark.parametrize("rule,status", [
    ({"name": "x", "regex": "(unclosed"}, 422),
    ({"name": "x", "regex": "a" * 513}, 422),
    ({"name": "x", "regex": "((a{100}){100}){100}"}, 422),  # over the memory budget
    ({"name": "bad name!", "regex": "a"}, 422),
    ({"name": "cuda_oom", "regex": "a"}, 422),  # a built-in's name
    ({"name": "x", "regex": "a", "level": "LOUD"}, 422),
    ({"name": "x"}, 400),
    ({"regex": "a"}, 400),
    ({"name": 5, "regex": "a"}, 400),
])
def test_bad_project_rules_are_refused(server: Server, rule: dict[str, Any], status: int) -> None:
    server.new_run("hostile")
    r = server.post("/projects/hostile/problem-rules", rule)
    assert r.status == status, r.body
    assert "error" in r.json()
    assert server.get("/projects/hostile/problem-settings").json()["rules"] == []


def test_bad_settings_are_refused(server: Server) -> None:
    server.new_run("hostile")
    for body, status in [({"stall_after_seconds": -1}, 422), ({"stall_after_seconds": 10**9}, 422),
                         ({"stall_after_seconds": "1"}, 400), ({"rules": "x"}, 400),
                         ({"rules": [{"name": f"r{i}", "regex": "a"} for i in range(33)]}, 422),
                         ({"rules": [{"name": "r", "regex": "a"}, {"name": "r", "regex": "b"}]},
                          422)]:
        r = server.request("PUT", "/projects/hostile/problem-settings", body)
        assert r.status == status, (body, r.body)
    r = server.request("PUT", "/projects/hostile/problem-settings", raw=b"{nope")
    assert r.status == 400
    assert server.request("PUT", "/projects/missing/problem-settings",
                          {"stall_after_seconds": 5}).status == 404


def test_hostile_regex_does_not_hang_ingest(server: Server) -> None:
    run = server.new_run("bomb")
    r = server.post("/projects/bomb/problem-rules", {"name": "bomb", "regex": "(a+)+$"})
    assert r.status == 201
    # Exponential for a backtracking engine; linear under RE2. The reply comes (timeout 60 s).
    r = server.batch(run, ["a" * 60000 + "!"] * 50)
    assert r.status == 200
    assert [p for p in problems(server, run) if p["kind"] == "custom"] == []


def test_no_problem_detection_flag(make_server: Any) -> None:
    s = make_server(["--no-problem-detection"]).start()
    run = s.new_run()
    s.batch(run, corpus_lines("cuda_oom_torch2"))
    assert problems(s, run) == []
    assert s.stop() == 0


def test_stalled_run(make_server: Any) -> None:
    s = make_server(["--stall-sweep-interval", "0.1"]).start()
    run = s.new_run("slow")
    quiet = s.new_run("slow", name="finished")
    r = s.request("PUT", "/projects/slow/problem-settings", {"stall_after_seconds": 1})
    assert r.status == 200
    s.batch(run, ["step 1", "step 2"])
    s.batch(quiet, ["done"])
    assert s.request("PATCH", f"/runs/{quiet}", {"state": "finished"}).status == 200

    def stalled() -> list[dict[str, Any]]:
        return [p for p in problems(s, run) if p["kind"] == "stalled"]

    [p] = wait_until(stalled, timeout=30)
    assert p["first_line"] == 2 and p["level"] == "WARNING"
    assert p["title"] == "No output for 1 s"
    assert p["occurrences"] == 1
    # More output, then silence again: a second occurrence of the same event.
    s.batch(run, ["step 3"])
    wait_until(lambda: stalled() and stalled()[0]["occurrences"] == 2, timeout=30)
    [p] = stalled()
    assert p["writers"][0]["last_seen_line"] == 3
    # A finished run never stalls.
    assert [p for p in problems(s, quiet) if p["kind"] == "stalled"] == []
    runs = {r["id"]: r for r in s.get("/runs", project="slow").json()["runs"]}
    assert runs[run]["top_problem"]["kind"] == "stalled"
    assert s.stop() == 0


def test_stall_detection_is_off_at_zero(make_server: Any) -> None:
    s = make_server(["--stall-sweep-interval", "0.05"]).start()
    run = s.new_run("never")
    assert s.request("PUT", "/projects/never/problem-settings",
                     {"stall_after_seconds": 0}).status == 200
    s.batch(run, ["x"])
    # Another run of a project with a 1 s stall time is the clock: once it stalled twice (a
    # second silence after more output), whole sweeps have passed over `run`, silent for longer.
    other = s.new_run("fast")
    s.request("PUT", "/projects/fast/problem-settings", {"stall_after_seconds": 1})
    s.batch(other, ["y"])
    assert wait_until(lambda: problems(s, other), timeout=30)
    s.batch(other, ["z"])
    assert wait_until(lambda: problems(s, other)[0]["occurrences"] == 2, timeout=30)
    assert problems(s, run) == []
    assert s.stop() == 0
