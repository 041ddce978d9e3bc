"""Issue 8 item 20: a request's reads have a time budget (--query-timeout → 503 with a clear
message, /health and ingest unaffected), and a request whose client disconnects is cancelled
(logged as 499) instead of scanning to the end."""
from __future__ import annotations

import socket
from typing import Any

from conftest import Server, wait_until

LINES = 20_000


def fill(server: Server, n: int = LINES) -> str:
    rid = server.new_run()
    for start in range(0, n, 10_000):
        r = server.batch(rid, [f"line {i} of the run" for i in range(start, min(n, start + 10_000))])
        assert r.status == 200, r.body
    return rid


def test_reads_over_budget_get_503_and_the_rest_goes_on(make_server: Any) -> None:
    # A budget of a microsecond: every read that scans chunks runs out at its first check.
    server = make_server(["--query-timeout", "0.000001"]).start()
    rid = fill(server)
    for path, params in [(f"/runs/{rid}/logs", {"regex": "never-there"}),
                         (f"/runs/{rid}/logs", {"search": "never-there"}),
                         (f"/runs/{rid}/logs/latest", {"search": "never-there"}),
                         (f"/runs/{rid}/logs/locate", {"line": 5, "search": "line"}),
                         (f"/runs/{rid}/logs/histogram", {"regex": "line 1"})]:
        r = server.get(path, **params)
        assert r.status == 503, (path, r.status, r.body)
        assert "--query-timeout" in r.json()["error"]["message"], r.body
    assert server.get("/health").status == 200
    assert server.batch(rid, ["one more"]).status == 200  # writes have no read budget
    assert server.get(f"/runs/{rid}").json()["line_count"] == LINES + 1


def test_the_default_budget_lets_normal_reads_through(server: Server) -> None:
    rid = fill(server)
    r = server.get(f"/runs/{rid}/logs", regex="line 19999 ", limit=10)
    assert r.status == 200 and [l["line_number"] for l in r.json()["logs"]] == [20000]


def test_a_client_that_disconnects_cancels_its_scan(server: Server) -> None:
    rid = fill(server, 200_000)  # many pages of chunks: the scan checks between pages
    request = (f"GET /api/v1/runs/{rid}/logs?regex=never-there&limit=10 HTTP/1.1\r\n"
               f"Host: 127.0.0.1:{server.port}\r\n\r\n").encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    s.sendall(request)
    s.close()  # before any answer: the scan has no one to answer to
    target = f"GET /api/v1/runs/{rid}/logs?regex=never-there&limit=10 499"
    assert wait_until(lambda: target in server.log_path.read_text(), timeout=60), \
        server.log_path.read_text()[-2000:]
    assert server.get("/health").json().get("requests_in_flight") == 0
