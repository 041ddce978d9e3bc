"""Team scale: two server nodes on one real PostgreSQL (issue 10). Viewers on one node see what
another node stored; concurrent writers through two nodes get dense line numbers; and the
faults: PostgreSQL stopped mid-ingest, a node killed with SIGKILL, the LISTEN connection
terminated."""
from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from websockets.sync.client import ClientConnection, connect

from conftest import Server, wait_until
from pg_server import PgServer


@pytest.fixture
def nodes(tmp_path: Path, postgres: PgServer) -> Iterator[Any]:
    """make(n) starts n nodes on one fresh schema; every node is stopped at the end."""
    conninfo = postgres.new_schema()
    started: list[Server] = []

    def make(n: int = 2) -> list[Server]:
        out = []
        for _ in range(n):
            d = tmp_path / f"node{len(started)}"
            d.mkdir()
            s = Server(d, ["--store", conninfo]).start()
            started.append(s)
            out.append(s)
        return out

    yield make
    for s in started:
        if s.proc and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def ws(server: Server, run_id: str, query: str = "") -> ClientConnection:
    return connect(f"ws://127.0.0.1:{server.port}/api/v1/runs/{run_id}/logs/stream{query}",
                   open_timeout=10, max_size=None)


def frames_until(conn: ClientConnection, done: Any, timeout: float = 30) -> list[dict[str, Any]]:
    """Frames until done(frames) holds."""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not done(out):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out after {len(out)} frames"
        out.append(json.loads(conn.recv(timeout=left)))
    return out


def lines_of(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [x for f in frames if f["type"] == "logs" for x in f["logs"]]


def post(port: int, path: str, body: Any, method: str = "POST") -> tuple[int, dict[str, str], Any]:
    """One request on its own connection; status 0 when the node is unreachable."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(method, "/api/v1" + path, body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        conn.close()
        return resp.status, headers, (json.loads(data) if data else None)
    except (OSError, http.client.HTTPException):
        return 0, {}, None


def batch_body(writer: str, seq0: int, n: int) -> dict[str, Any]:
    return {"writer": writer,
            "logs": [{"seq": seq0 + i, "message": f"{writer} {seq0 + i}"} for i in range(n)]}


def test_viewer_on_b_sees_every_line_posted_to_a_once_in_order(nodes: Any) -> None:
    a, b = nodes(2)
    rid = a.new_run()
    with ws(b, rid) as viewer:
        assert json.loads(viewer.recv(timeout=10)) == {"type": "logs", "logs": []}
        for k in range(20):
            assert a.batch(rid, [f"line {k * 50 + i}" for i in range(50)]).status == 200
        got = lines_of(frames_until(viewer, lambda f: len(lines_of(f)) >= 1000))
    assert [x["line_number"] for x in got] == list(range(1, 1001))
    assert [x["message"] for x in got] == [f"line {i}" for i in range(1000)]


def test_state_and_clear_reach_viewers_on_the_other_node(nodes: Any) -> None:
    a, b = nodes(2)
    rid = a.new_run()
    a.batch(rid, ["one", "two"])
    with ws(b, rid) as on_b, ws(a, rid) as on_a:
        assert len(json.loads(on_b.recv(timeout=10))["logs"]) == 2
        assert len(json.loads(on_a.recv(timeout=10))["logs"]) == 2
        # Cleared through B: the viewer on A hears it.
        assert b.request("DELETE", f"/runs/{rid}/logs").status == 204
        frames_until(on_a, lambda f: any(x["type"] == "cleared" for x in f))
        # Finished through A: the viewer on B hears it.
        r = a.request("PATCH", f"/runs/{rid}", {"state": "finished", "exit_code": 0})
        assert r.status == 200
        got = frames_until(on_b, lambda f: any(x["type"] == "run" for x in f))
        run_frame = [x for x in got if x["type"] == "run"][0]
        assert run_frame["state"] == "finished"
    assert b.get(f"/runs/{rid}").json()["state"] == "finished"


def test_progress_posted_on_a_reaches_a_viewer_on_b(nodes: Any) -> None:
    a, b = nodes(2)
    rid = a.new_run()
    with ws(b, rid) as viewer:
        json.loads(viewer.recv(timeout=10))
        r = a.post(f"/runs/{rid}/logs/progress", {"message": " 40%|████      | 4/10"})
        assert r.status == 202
        got = frames_until(viewer, lambda f: any(x["type"] == "progress" for x in f))
    frame = [x for x in got if x["type"] == "progress"][0]
    assert "4/10" in json.dumps(frame, ensure_ascii=False)


def test_two_writers_through_two_nodes_get_dense_numbers(nodes: Any) -> None:
    a, b = nodes(2)
    rid = a.new_run()
    errors: list[Any] = []

    def writer(node: Server, name: str) -> None:
        for k in range(30):
            status, _, body = post(node.port, f"/runs/{rid}/logs/batch", batch_body(name, k * 40, 40))
            if status != 200 or body["accepted"] != 40:
                errors.append((name, k, status, body))

    threads = [threading.Thread(target=writer, args=(n, f"w{i}"))
               for i, n in enumerate([a, b, a, b])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    lines = b.all_lines(rid)
    assert [x["line_number"] for x in lines] == list(range(1, 4 * 30 * 40 + 1))
    assert len({(x["writer"], x["message"]) for x in lines}) == len(lines)


class RetryingWriter(threading.Thread):
    """Posts numbered batches through `port`, retrying each until a node accepts it (as the SDK
    does), and records what was acknowledged."""

    def __init__(self, ports: list[int], run_id: str, name: str, batches: int) -> None:
        super().__init__()
        self.ports, self.run_id, self.name, self.batches = ports, run_id, name, batches
        self.acked = 0
        self.saw_503_retry_after = False
        self.failed: Optional[str] = None

    def run(self) -> None:
        deadline = time.monotonic() + 120
        for k in range(self.batches):
            attempt = 0
            while True:
                port = self.ports[attempt % len(self.ports)]
                status, headers, body = post(port, f"/runs/{self.run_id}/logs/batch",
                                             batch_body(self.name, k * 20, 20))
                if status == 200:
                    self.acked += 1
                    break
                if status == 503 and headers.get("retry-after"):
                    self.saw_503_retry_after = True
                elif status not in (0, 503):
                    self.failed = f"batch {k}: {status} {body}"
                    return
                if time.monotonic() > deadline:
                    self.failed = f"batch {k}: no node accepted it in time"
                    return
                attempt += 1
                time.sleep(0.1)  # the client's backoff, not a synchronisation


@pytest.mark.serial
def test_postgres_stopped_10s_during_ingest_loses_and_duplicates_nothing(
        nodes: Any, postgres: PgServer) -> None:
    a, b = nodes(2)
    rid = a.new_run()
    writers = [RetryingWriter([a.port], rid, "wa", 60), RetryingWriter([b.port], rid, "wb", 60)]
    for w in writers:
        w.start()
    assert wait_until(lambda: all(w.acked >= 5 for w in writers), timeout=60)
    postgres.stop()
    try:
        assert wait_until(lambda: all(w.saw_503_retry_after for w in writers), timeout=30)
        time.sleep(10)  # the outage itself: PostgreSQL stays down this long
    finally:
        postgres.restart()
    for w in writers:
        w.join(timeout=180)
        assert w.failed is None, w.failed
        assert w.acked == 60
    lines = a.all_lines(rid)
    assert [x["line_number"] for x in lines] == list(range(1, 2 * 60 * 20 + 1))
    for name in ("wa", "wb"):
        assert sorted(x["message"] for x in lines if x["writer"] == name) == sorted(
            f"{name} {i}" for i in range(60 * 20))
    # Both nodes recovered by themselves.
    assert a.get("/health").status == 200 and b.batch(rid, ["after"]).status == 200


def test_sigkill_node_during_ingest_keeps_every_acknowledged_line_once(nodes: Any) -> None:
    a, b = nodes(2)
    rid = a.new_run()
    acked: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        k = 0
        while not stop.is_set():
            status, _, body = post(a.port, f"/runs/{rid}/logs/batch", batch_body("w", k * 50, 50))
            if status != 200:
                return  # the node is gone
            acked.append(k)
            k += 1

    threads = [threading.Thread(target=writer)]
    threads[0].start()
    assert wait_until(lambda: len(acked) >= 10, timeout=60)
    a.kill9()
    stop.set()
    threads[0].join(timeout=30)
    lines = b.all_lines(rid)
    messages = [x["message"] for x in lines]
    assert len(messages) == len(set(messages))
    for k in acked:
        for i in range(50):
            assert f"w {k * 50 + i}" in set(messages)
    assert [x["line_number"] for x in lines] == list(range(1, len(lines) + 1))


@pytest.mark.serial
def test_terminated_listen_connection_reconnects_and_viewers_miss_nothing(
        nodes: Any, postgres: PgServer) -> None:
    a, b = nodes(2)
    rid = a.new_run()
    admin = postgres.conninfo.replace("dbname=wanllmdb_test", "dbname=postgres")
    with ws(b, rid) as viewer:
        json.loads(viewer.recv(timeout=10))
        a.batch(rid, [f"before {i}" for i in range(10)])
        frames_until(viewer, lambda f: len(lines_of(f)) >= 10)
        # Keep the LISTEN connections from coming back while lines are stored: only the
        # catch-up after the reconnect can bring these to the viewer (no later NOTIFY does).
        postgres.sql("ALTER DATABASE wanllmdb_test ALLOW_CONNECTIONS false", admin)
        try:
            killed = postgres.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE application_name = 'wanllmdb listen'", admin)
            assert int(killed) >= 2  # one per node
            for k in range(10):
                assert a.batch(rid, [f"during {k}-{i}" for i in range(10)]).status == 200
        finally:
            postgres.sql("ALTER DATABASE wanllmdb_test ALLOW_CONNECTIONS true", admin)
        got = lines_of(frames_until(viewer, lambda f: len(lines_of(f)) >= 100, timeout=60))
    assert [x["message"] for x in got] == [f"during {k}-{i}" for k in range(10) for i in range(10)]
    assert [x["line_number"] for x in got] == list(range(11, 111))


@pytest.mark.serial
def test_clear_missed_while_listen_is_down_reaches_the_viewer_after_the_reconnect(
        nodes: Any, postgres: PgServer) -> None:
    a, b = nodes(2)
    rid = a.new_run()
    admin = postgres.conninfo.replace("dbname=wanllmdb_test", "dbname=postgres")
    a.batch(rid, [f"old {i}" for i in range(5)])
    with ws(b, rid) as viewer:
        assert len(json.loads(viewer.recv(timeout=10))["logs"]) == 5
        # The LISTEN connections stay away while A clears the run and stores new lines: no
        # NOTIFY can tell B's viewer of the clear, only the catch-up after the reconnect.
        postgres.sql("ALTER DATABASE wanllmdb_test ALLOW_CONNECTIONS false", admin)
        try:
            killed = postgres.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE application_name = 'wanllmdb listen'", admin)
            assert int(killed) >= 2
            assert a.request("DELETE", f"/runs/{rid}/logs").status == 204
            assert a.batch(rid, [f"new {i}" for i in range(3)]).status == 200
        finally:
            postgres.sql("ALTER DATABASE wanllmdb_test ALLOW_CONNECTIONS true", admin)
        got = frames_until(viewer, lambda f: len(lines_of(f)) >= 3, timeout=60)
    kinds = [f["type"] for f in got if f["type"] in ("cleared", "logs")]
    assert kinds[0] == "cleared", kinds  # before the new lines, so the old ones are dropped first
    assert [x["message"] for x in lines_of(got)] == ["new 0", "new 1", "new 2"]
    assert [x["line_number"] for x in lines_of(got)] == [6, 7, 8]
