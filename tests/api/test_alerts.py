"""Alerts (doc/alerts.md): per-project webhooks, delivered to a real local HTTP receiver started
by the test (http.server in a thread) — a run's first problem of a chosen kind (Slack and the
generic JSON format; from the batch API, OTLP and Loki), a run ending failed or crashed, a
stalled run, retries with backoff until the receiver answers 2xx, the delivery log, hostile
URLs; and durability: a delivery pending at a restart arrives after it, a restart does not
alert again, and two nodes on one PostgreSQL deliver each event once."""
from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timezone
from time import time_ns
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from conftest import Server, _stores, wait_until

OOM = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB."
TRACEBACK = ["Traceback (most recent call last):", '  File "train.py", line 3, in <module>',
             "    main()", OOM]


class Receiver:
    """A webhook receiver: records every POST; answers `fail_first` of them with 500."""

    def __init__(self, fail_first: int = 0, port: int = 0) -> None:
        self.bodies: list[Any] = []
        self.paths: list[str] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    failing = outer.fail_first > 0
                    if failing:
                        outer.fail_first -= 1
                    else:
                        outer.bodies.append(json.loads(body))
                        outer.paths.append(self.path)
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/hooks/abc?x=1"

    def received(self) -> list[Any]:
        with self.lock:
            return list(self.bodies)

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def alert_server(make_server: Any) -> Iterator[Server]:
    s = make_server(["--webhook-retry", "0.05", "--stall-sweep-interval", "0.1"]).start()
    yield s
    assert s.stop() == 0


def add_hook(s: Server, project: str, **body: Any) -> dict[str, Any]:
    r = s.post(f"/projects/{project}/webhooks", body)
    assert r.status == 201, r.body
    return r.json()


def test_first_problem_of_a_kind_reaches_slack_once(alert_server: Server, receiver: Receiver) -> None:
    s = alert_server
    run = s.new_run("vision", name="resnet")
    hook = add_hook(s, "vision", url=receiver.url, format="slack", problem_kinds=["cuda_oom"])
    assert hook["format"] == "slack" and hook["problem_kinds"] == ["cuda_oom"]
    s.batch(run, ["step 1", *TRACEBACK], writer="rank-0")
    [msg] = wait_until(receiver.received, timeout=30)
    assert set(msg) == {"text"}
    assert "resnet" in msg["text"] and "vision" in msg["text"]
    assert "CUDA out of memory" in msg["text"] and "line 2" in msg["text"]
    assert receiver.paths == ["/hooks/abc?x=1"]
    # The same kind again (another rank) is not a first problem; a failed end is, for this hook.
    s.batch(run, TRACEBACK, writer="rank-1")
    s.batch(run, ["loss = nan"])  # a kind the hook did not ask for
    assert s.request("PATCH", f"/runs/{run}", {"state": "failed", "exit_code": 1}).status == 200
    wait_until(lambda: len(receiver.received()) == 2, timeout=30)
    ended = receiver.received()[1]["text"]
    assert "ended failed with exit code 1" in ended
    log = s.get("/projects/vision/webhooks").json()["webhooks"][0]["deliveries"]
    log = wait_until(lambda: (d := s.get("/projects/vision/webhooks").json()["webhooks"][0]
                              ["deliveries"])["delivered"] == 2 and d, timeout=30)
    assert log["last_status"] == 200 and log["last_error"] == ""
    assert [r["event"] for r in log["recent"]] == ["run_ended", "problem"]


def test_generic_json_payload_and_run_end(alert_server: Server, receiver: Receiver) -> None:
    s = alert_server
    run = s.new_run("nlp", name="bert")
    ok_run = s.new_run("nlp", name="fine")
    add_hook(s, "nlp", url=receiver.url, problem_kinds=["*"], on_stall=False)
    s.batch(run, ["x", "OSError: [Errno 28] No space left on device"])
    [msg] = wait_until(receiver.received, timeout=30)
    assert msg["event"] == "problem" and msg["project"] == "nlp"
    assert msg["run"]["id"] == run and msg["run"]["name"] == "bert"
    assert msg["problem"]["kind"] == "disk_full" and msg["problem"]["first_line"] == 2
    assert s.request("PATCH", f"/runs/{ok_run}", {"state": "finished", "exit_code": 0}).status == 200
    assert s.request("PATCH", f"/runs/{run}", {"state": "crashed"}).status == 200
    wait_until(lambda: len(receiver.received()) == 2, timeout=30)
    ended = receiver.received()[1]
    assert ended["event"] == "run_ended" and ended["run"]["id"] == run
    assert ended["run"]["state"] == "crashed"


def test_retries_until_the_receiver_answers(alert_server: Server) -> None:
    s = alert_server
    flaky = Receiver(fail_first=3)
    try:
        run = s.new_run("flaky")
        add_hook(s, "flaky", url=flaky.url, problem_kinds=["segfault"])
        s.batch(run, ["Segmentation fault (core dumped)"])
        [msg] = wait_until(flaky.received, timeout=30)
        assert msg["problem"]["kind"] == "segfault"
        log = s.get("/projects/flaky/webhooks").json()["webhooks"][0]["deliveries"]
        log = wait_until(lambda: (d := s.get("/projects/flaky/webhooks").json()["webhooks"][0]
                                  ["deliveries"])["delivered"] == 1 and d, timeout=30)
        assert log["failed_attempts"] == 3 and log["pending"] == 0
        # One delivery, its latest attempt: the fourth, answered 200.
        [rec] = log["recent"]
        assert rec["attempt"] == 4 and rec["state"] == "delivered" and rec["status"] == 200
        assert rec["error"] == "" and rec["next_attempt_at"] is None
    finally:
        flaky.close()


def test_unreachable_receiver_is_logged_and_ingest_never_waits(alert_server: Server) -> None:
    s = alert_server
    run = s.new_run("gone")
    add_hook(s, "gone", url="http://127.0.0.1:9/nothing", problem_kinds=["*"])
    for i in range(20):
        r = s.batch(run, [f"step {i}", "Killed"])
        assert r.status == 200
    def logged() -> Any:
        d = s.get("/projects/gone/webhooks").json()["webhooks"][0]["deliveries"]
        return d if d["failed_attempts"] >= 2 else None
    d = wait_until(logged, timeout=30)
    assert d["delivered"] == 0 and d["last_error"] and d["last_status"] == 0


def test_stalled_run_fires(alert_server: Server, receiver: Receiver) -> None:
    s = alert_server
    run = s.new_run("slow", name="hung")
    assert s.request("PUT", "/projects/slow/problem-settings", {"stall_after_seconds": 1}).status == 200
    add_hook(s, "slow", url=receiver.url, format="json", problem_kinds=[], on_run_end=False)
    s.batch(run, ["step 1"])
    [msg] = wait_until(receiver.received, timeout=30)
    assert msg["event"] == "stalled" and msg["problem"]["kind"] == "stalled"
    assert msg["run"]["name"] == "hung"


@pytest.mark.parametrize("body,status", [
    ({"url": "ftp://example.com/x"}, 422),
    ({"url": "file:///etc/passwd"}, 422),
    ({"url": "javascript:alert(1)"}, 422),
    ({"url": "http://"}, 422),
    ({"url": "http://user:pw@example.com/"}, 422),
    ({"url": "http://exa mple.com/"}, 422),
    ({"url": "http://example.com:99999/"}, 422),
    ({"url": "http://example.com/" + "a" * 3000}, 422),
    ({"url": "https://example.com/x", "format": "xml"}, 422),
    ({"url": "https://example.com/x", "problem_kinds": ["nope"]}, 422),
    ({"url": "https://example.com/x", "problem_kinds": "cuda_oom"}, 400),
    ({"url": "https://example.com/x", "on_run_end": "yes"}, 400),
    ({}, 400),
    ({"url": 5}, 400),
])
def test_hostile_webhooks_are_refused(server: Server, body: dict[str, Any], status: int) -> None:
    server.new_run("p")
    r = server.post("/projects/p/webhooks", body)
    assert r.status == status, r.body
    assert server.get("/projects/p/webhooks").json()["webhooks"] == []


def test_webhook_lifecycle(server: Server) -> None:
    server.new_run("p")
    h = server.post("/projects/p/webhooks", {"url": "https://hooks.slack.com/services/T/B/X",
                                              "format": "slack", "problem_kinds": ["cuda_oom"]}).json()
    assert server.get("/projects/p/webhooks").json()["webhooks"][0]["id"] == h["id"]
    assert server.request("DELETE", f"/projects/p/webhooks/{h['id']}").status == 204
    assert server.request("DELETE", f"/projects/p/webhooks/{h['id']}").status == 404
    assert server.get("/projects/p/webhooks").json()["webhooks"] == []
    assert server.post("/projects/missing/webhooks", {"url": "https://x.org/"}).status == 404
    for _ in range(20):
        assert server.post("/projects/p/webhooks", {"url": "https://x.org/"}).status == 201
    assert server.post("/projects/p/webhooks", {"url": "https://x.org/"}).status == 422


# ---- durability: the outbox in the store ----

ALERT_ARGS = ["--webhook-retry", "0.05", "--webhook-attempts", "100", "--stall-sweep-interval", "0.1"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deliveries(s: Server, project: str, index: int = 0) -> dict[str, Any]:
    return s.get(f"/projects/{project}/webhooks").json()["webhooks"][index]["deliveries"]


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_a_delivery_pending_at_a_restart_arrives_after_it(make_server: Any, how: str) -> None:
    """The receiver is down when the problem happens; the server stops (or is killed); a new
    process starts; the receiver comes up: the delivery the first process queued arrives, the
    original event. (A kill between a claim and its record leaves a PostgreSQL lease: the new
    process waits it out, within the deadline.)"""
    s = make_server(ALERT_ARGS).start()
    port = free_port()  # nothing listens on it yet
    run = s.new_run("durable", name="resnet")
    add_hook(s, "durable", url=f"http://127.0.0.1:{port}/hook", problem_kinds=["cuda_oom"])
    s.batch(run, ["step 1", *TRACEBACK])
    failing = wait_until(lambda: (d := deliveries(s, "durable"))["failed_attempts"] >= 1 and d,
                         timeout=30)
    assert failing["pending"] == 1 and failing["delivered"] == 0 and failing["last_status"] == 0
    [pending] = failing["recent"]
    assert pending["state"] == "pending" and pending["event"] == "problem"
    restarted_at = datetime.now(timezone.utc)
    if how == "sigkill":
        s.kill9()
    else:
        assert s.stop() == 0
    s2 = make_server(ALERT_ARGS).start()
    r = Receiver(port=port)
    try:
        [msg] = wait_until(r.received, timeout=90)
        assert msg["event"] == "problem" and msg["run"]["id"] == run
        assert msg["event_id"] == f"{run}/problem/cuda_oom"
        assert msg["problem"]["kind"] == "cuda_oom" and msg["problem"]["first_line"] == 2
        # Built when the event was queued, before the restart: the original, not a new one.
        sent_at = datetime.fromisoformat(msg["sent_at"].replace("Z", "+00:00"))
        assert sent_at < restarted_at
        log = wait_until(lambda: (d := deliveries(s2, "durable"))["delivered"] == 1 and d,
                         timeout=30)
        assert log["pending"] == 0 and log["failed_attempts"] >= 1
        [done] = log["recent"]
        assert done["id"] == pending["id"] and done["state"] == "delivered"
        assert done["attempt"] >= 2
    finally:
        r.close()
    assert s2.stop() == 0


def test_a_restart_does_not_alert_again(make_server: Any, receiver: Receiver) -> None:
    s = make_server(ALERT_ARGS).start()
    run = s.new_run("again")
    add_hook(s, "again", url=receiver.url, problem_kinds=["cuda_oom", "segfault"], on_run_end=False,
             on_stall=False)
    s.batch(run, [OOM], writer="rank-0")
    wait_until(receiver.received, timeout=30)
    assert s.stop() == 0
    s = make_server(ALERT_ARGS).start()
    s.batch(run, [OOM], writer="rank-1")  # the same kind, after the restart: not a first
    s.batch(run, ["Segmentation fault (core dumped)"], writer="rank-1")  # a new kind: is
    wait_until(lambda: len(receiver.received()) >= 2, timeout=30)
    wait_until(lambda: deliveries(s, "again")["delivered"] == 2, timeout=30)
    assert [m["problem"]["kind"] for m in receiver.received()] == ["cuda_oom", "segfault"]
    assert s.stop() == 0


@pytest.mark.skipif("postgresql" not in _stores(), reason="WANLLMDB_TEST_STORES leaves out PostgreSQL")
def test_two_nodes_deliver_each_event_once(tmp_path: Any, postgres: Any) -> None:
    """Two nodes on one PostgreSQL, both sweeping for stalls and both polling the outbox: a
    problem, a run's end reported through both nodes, and a stall both nodes' sweeps see are
    each delivered once — checked after a later event has been delivered too."""
    conninfo = postgres.new_schema()
    nodes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        nodes.append(Server(tmp_path / name, ["--store", conninfo, *ALERT_ARGS]).start())
    a, b = nodes
    flaky = Receiver(fail_first=2)  # retries: either node may claim them, never both at once
    try:
        run = a.new_run("multi", name="first")
        add_hook(a, "multi", url=flaky.url, problem_kinds=["cuda_oom"], on_stall=False)
        b.new_run("slow")
        add_hook(b, "slow", url=flaky.url, problem_kinds=[], on_run_end=False)
        a.batch(run, [OOM])
        wait_until(flaky.received, timeout=30)
        for n in nodes:
            assert wait_until(lambda: deliveries(n, "multi")["delivered"] == 1, timeout=30)
        # The end through both nodes: failed on a, then crashed (worse) on b.
        assert a.request("PATCH", f"/runs/{run}", {"state": "failed", "exit_code": 1}).status == 200
        assert b.request("PATCH", f"/runs/{run}", {"state": "crashed"}).status == 200
        # A stall both nodes' sweeps see.
        assert a.request("PUT", "/projects/slow/problem-settings",
                         {"stall_after_seconds": 1}).status == 200
        stalled = a.new_run("slow", name="hung")
        b.batch(stalled, ["step 1"])
        wait_until(lambda: any(m["event"] == "stalled" and m["run"]["id"] == stalled
                               for m in flaky.received()), timeout=60)
        # The later distinct event, through b: once it is delivered, so are the ones before.
        later = b.new_run("multi", name="later")
        b.batch(later, [OOM])
        wait_until(lambda: any(m["run"]["id"] == later for m in flaky.received()), timeout=30)
        for n in nodes:
            assert wait_until(lambda: deliveries(n, "multi")["delivered"] == 3
                              and deliveries(n, "multi")["pending"] == 0, timeout=30)
        got = [(m["event"], m["run"]["id"]) for m in flaky.received()]
        assert got.count(("problem", run)) == 1
        assert got.count(("run_ended", run)) == 1
        assert got.count(("stalled", stalled)) == 1
        assert got.count(("problem", later)) == 1
        assert deliveries(a, "multi") == deliveries(b, "multi")
    finally:
        flaky.close()
        for n in nodes:
            if n.proc and n.proc.poll() is None:
                assert n.stop() == 0


def otlp_line(run: str, text: str) -> bytes:
    record = {"timeUnixNano": str(time_ns()), "body": {"stringValue": text}}
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "wanllmdb.run_id", "value": {"stringValue": run}},
                                    {"key": "wanllmdb.rank", "value": {"intValue": "3"}}]},
        "scopeLogs": [{"scope": {"name": "t"}, "logRecords": [record]}]}]}).encode()


def loki_line(run: str, text: str) -> bytes:
    return json.dumps({"streams": [{"stream": {"run_id": run, "rank": "5"},
                                    "values": [[str(time_ns()), text]]}]}).encode()


@pytest.mark.parametrize("protocol", ["otlp", "loki"])
def test_otlp_and_loki_lines_fire_the_webhook(alert_server: Server, receiver: Receiver,
                                              protocol: str) -> None:
    s = alert_server
    run = s.new_run("foreign", name="shipped")
    add_hook(s, "foreign", url=receiver.url, problem_kinds=["cuda_oom"])
    if protocol == "otlp":
        r = s.request("POST", "/v1/logs", raw=otlp_line(run, OOM),
                      headers={"Content-Type": "application/json"}, api=False)
        assert r.status == 200, r.body
    else:
        r = s.request("POST", "/loki/api/v1/push", raw=loki_line(run, OOM),
                      headers={"Content-Type": "application/json"}, api=False)
        assert r.status == 204, r.body
    [msg] = wait_until(receiver.received, timeout=30)
    assert msg["event"] == "problem" and msg["run"]["id"] == run
    assert msg["problem"]["kind"] == "cuda_oom"
    # The same kind again through the batch API is not a first problem.
    s.batch(run, [OOM], writer="rank-0")
    assert s.request("PATCH", f"/runs/{run}", {"state": "failed"}).status == 200
    wait_until(lambda: len(receiver.received()) == 2, timeout=30)
    assert [m["event"] for m in receiver.received()] == ["problem", "run_ended"]
