"""Per-run and per-project ingest quotas against the real binary: a burst over a tiny quota
gets 429 with Retry-After and a clear message, the refused batch stores nothing, a later retry
passes, and the stored lines are exactly the accepted ones. Asserts status codes and stored
content only: a quota of 1 line/s and batches of 5 lines make the second batch's 429 certain
(it would need 5 s of refill between two requests). The OTLP and Loki endpoints, whose one
request may write to several runs, are admitted or refused whole, and refuse below
--min-free-disk like the batch API (OTLP with 503: its exporters retry nothing else)."""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

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


# ---- the other ingest protocols: one request writes to several runs, admitted whole or not ----

def otlp_body(records: list[tuple[str, str]], project: str = "p") -> bytes:
    """An OTLP JSON request: one resource per (run id, message) pair, in order."""
    def attr(k: str, v: str) -> dict[str, Any]:
        return {"key": k, "value": {"stringValue": v}}

    return json.dumps({"resourceLogs": [
        {"resource": {"attributes": [attr("wanllmdb.run_id", rid), attr("wanllmdb.project", project)]},
         "scopeLogs": [{"logRecords": [{"body": {"stringValue": msg}}]}]}
        for rid, msg in records]}).encode()


def post_otlp(server: Server, body: bytes) -> Any:
    return server.request("POST", "/v1/logs", raw=body, api=False,
                          headers={"Content-Type": "application/json"})


def loki_body(records: list[tuple[str, str, str]]) -> bytes:
    """A Loki JSON push: one stream per (run id, project, message), in order."""
    return json.dumps({"streams": [
        {"stream": {"run_id": rid, "project": project},
         "values": [[str(1_700_000_000_000_000_000 + i), msg]]}
        for i, (rid, project, msg) in enumerate(records)]}).encode()


def post_loki(server: Server, body: bytes) -> Any:
    return server.request("POST", "/loki/api/v1/push", raw=body, api=False,
                          headers={"Content-Type": "application/json"})


def messages_of(server: Server, rid: str) -> list[str]:
    if server.get(f"/runs/{rid}").status != 200:
        return []
    return [ln["message"] for ln in server.all_lines(rid)]


def retry_request_until_accepted(send: Any, ok: int) -> int:
    """Sends the same request again until it is stored, as an exporter honouring Retry-After
    would; returns how many 429s it got."""
    refusals = [0]

    def attempt() -> bool:
        r = send()
        if r.status == 429:
            assert int(r.headers["retry-after"]) >= 1
            refusals[0] += 1
            return False
        assert r.status == ok, r.body
        return True

    assert wait_until(attempt, timeout=120, interval=0.25)
    return refusals[0]


def test_otlp_request_over_a_run_quota_is_refused_whole_across_its_runs(make_server: Any) -> None:
    server: Server = make_server(["--quota-run-lines-per-s", "1"]).start()
    busy, fresh, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    first = [(busy, f"first {i}") for i in range(5)]
    assert post_otlp(server, otlp_body(first)).status == 200  # a full bucket: in debt now
    # Two lines for a run with a full bucket, three for the one in debt: all refused.
    mixed = [(fresh, "fresh 0"), (busy, "busy 0"), (fresh, "fresh 1"), (busy, "busy 1"),
             (busy, "busy 2")]
    r = post_otlp(server, otlp_body(mixed))
    assert r.status == 429, r.body
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"] == "application/json"  # the OTLP error shape
    err = r.json()
    assert err["code"] == 8  # google.rpc.Status RESOURCE_EXHAUSTED, as OTLP wants it
    assert f"run {busy} may store 1 lines/s (--quota-run-lines-per-s)" in err["message"]
    assert "this batch of 5 lines" in err["message"] and "was not stored" in err["message"]
    assert messages_of(server, busy) == [m for _, m in first]
    assert server.get(f"/runs/{fresh}").status == 404  # not even created
    # The refused request charged nothing: the fresh run's quota is untouched.
    assert post_otlp(server, otlp_body([(other, f"other {i}") for i in range(5)])).status == 200
    retry_request_until_accepted(lambda: post_otlp(server, otlp_body(mixed)), 200)
    assert messages_of(server, fresh) == ["fresh 0", "fresh 1"]
    assert messages_of(server, busy) == [m for _, m in first] + ["busy 0", "busy 1", "busy 2"]
    assert [ln["line_number"] for ln in server.all_lines(busy)] == list(range(1, 9))


def test_loki_push_over_a_project_quota_stores_nothing_of_any_stream(make_server: Any) -> None:
    server: Server = make_server(["--quota-project-lines-per-s", "1"]).start()
    a, b, solo = server.new_run("team"), server.new_run("team"), server.new_run("solo")
    first = [(a, "team", f"a {i}") for i in range(5)]
    assert post_loki(server, loki_body(first)).status == 204  # the project is in debt now
    # One stream of the project in debt, one of a project with room: the whole push waits.
    push = [(solo, "solo", "solo 0"), (b, "team", "b 0"), (solo, "solo", "solo 1")]
    r = post_loki(server, loki_body(push))
    assert r.status == 429, r.body
    assert int(r.headers["retry-after"]) >= 1
    err = r.json()["error"]
    assert err["code"] == "too_many_requests"
    assert "project 'team' may store 1 lines/s (--quota-project-lines-per-s)" in err["message"]
    assert messages_of(server, solo) == [] and messages_of(server, b) == []
    assert server.batch(solo, ["direct"]).status == 200  # solo's project was not charged
    retry_request_until_accepted(lambda: post_loki(server, loki_body(push)), 204)
    assert messages_of(server, solo) == ["direct", "solo 0", "solo 1"]
    assert messages_of(server, b) == ["b 0"]
    assert messages_of(server, a) == [m for _, _, m in first]


@pytest.mark.sqlite_only("--min-free-disk watches the SQLite store's file system")
def test_otlp_and_loki_refuse_below_min_free_disk_with_retry_after(make_server: Any) -> None:
    server: Server = make_server(["--min-free-disk", "100%"]).start()
    rid = str(uuid.uuid4())
    r = post_otlp(server, otlp_body([(rid, "otlp")]))
    # OTLP exporters retry only 429/502/503/504 and drop data on any other status.
    assert r.status == 503, r.body
    assert int(r.headers["retry-after"]) >= 1
    assert r.json()["code"] == 14 and "--min-free-disk" in r.json()["message"]  # UNAVAILABLE
    r = post_loki(server, loki_body([(rid, "p", "loki")]))
    assert r.status == 507, r.body
    assert int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["code"] == "insufficient_storage"
    assert server.get(f"/runs/{rid}").status == 404  # nothing created, nothing stored
