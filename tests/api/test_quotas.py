"""Per-run and per-project ingest quotas against the real binary: a burst over a tiny quota
gets 429 with Retry-After and a clear message, the refused batch stores nothing, a later retry
passes, and the stored lines are exactly the accepted ones. Asserts status codes and stored
content only: a quota of 1 line/s and batches of 5 lines make the second batch's 429 certain
(it would need 5 s of refill between two requests)."""
from __future__ import annotations

from typing import Any

from conftest import Server, wait_until


def batch_of(tag: str, n: int) -> list[str]:
    return [f"{tag} {i}" for i in range(n)]


def retry_until_accepted(server: Server, rid: str, messages: list[str], seq: int) -> int:
    """Sends the batch again, as a client honouring Retry-After would, until it is stored;
    returns how many 429s it got."""
    refusals = [0]

    def attempt() -> bool:
        r = server.batch(rid, messages, writer="w", start_seq=seq)
        if r.status == 429:
            refusals[0] += 1
            return False
        assert r.status == 200, r.body
        return True

    assert wait_until(attempt, timeout=120, interval=0.25)
    return refusals[0]


def test_run_quota_refuses_a_burst_with_retry_after_and_stores_only_accepted_batches(
        make_server: Any) -> None:
    server: Server = make_server(["--quota-run-lines-per-s", "1"]).start()
    rid, other = server.new_run("p"), server.new_run("p")
    first, second = batch_of("first", 5), batch_of("second", 5)
    assert server.batch(rid, first, writer="w", start_seq=0).status == 200  # a full bucket
    r = server.batch(rid, second, writer="w", start_seq=5)
    assert r.status == 429, r.body
    assert int(r.headers["retry-after"]) >= 1
    err = r.json()["error"]
    assert err["code"] == "too_many_requests"
    assert f"run {rid} may store 1 lines/s (--quota-run-lines-per-s)" in err["message"]
    assert "was not stored" in err["message"]
    assert [ln["message"] for ln in server.all_lines(rid)] == first  # nothing of the refused one
    assert server.batch(other, batch_of("other", 5)).status == 200  # each run has its own quota
    retry_until_accepted(server, rid, second, 5)
    stored = server.all_lines(rid)
    assert [ln["message"] for ln in stored] == first + second
    assert [ln["line_number"] for ln in stored] == list(range(1, 11))
    assert server.get(f"/runs/{rid}/logs/summary").json()["total"] == 10


def test_project_quota_covers_all_runs_of_the_project(make_server: Any) -> None:
    server: Server = make_server(["--quota-project-bytes-per-s", "10"]).start()
    a, b, elsewhere = server.new_run("team"), server.new_run("team"), server.new_run("solo")
    big = ["x" * 60]  # more than the burst: passes on a full bucket, leaves a debt of 50 bytes
    assert server.batch(a, big, writer="w", start_seq=0).status == 200
    r = server.batch(b, ["y" * 5], writer="w", start_seq=0)
    assert r.status == 429
    assert "project 'team' may store 10 bytes/s (--quota-project-bytes-per-s)" in \
        r.json()["error"]["message"]
    single = server.post(f"/runs/{b}/logs", {"message": "single"})  # the one-line route too
    assert single.status == 429 and "retry-after" in single.headers
    assert server.batch(elsewhere, ["z" * 30]).status == 200  # another project
    assert server.all_lines(b) == []
    retry_until_accepted(server, b, ["y" * 5], 0)
    assert [ln["message"] for ln in server.all_lines(b)] == ["y" * 5]
    assert [ln["message"] for ln in server.all_lines(a)] == big


def test_no_quota_by_default(server: Server) -> None:
    rid = server.new_run()
    for k in range(20):
        assert server.batch(rid, batch_of(f"b{k}", 200)).status == 200
    assert server.get(f"/runs/{rid}/logs/summary").json()["total"] == 4000
