"""GET /metrics against the real binary, read with a real Prometheus text-format parser
(prometheus_client): exact ingest counters, rejected requests by status, latency histograms
labelled only by the route table's patterns, connection gauges, and who may scrape."""
from __future__ import annotations

import http.client
import json
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from conftest import BINARY, Server, wait_until


def scrape(server: Server, headers: Optional[dict[str, str]] = None) -> dict[str, Any]:
    """{family name: family} of one scrape; fails on anything the parser rejects."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", "/metrics", headers=headers or {})
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    assert resp.status == 200, body
    assert resp.getheader("Content-Type", "").startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(body)}


def value(families: dict[str, Any], sample_name: str, **labels: str) -> float:
    family = sample_name
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        if family.endswith(suffix) and family[: -len(suffix)] in families:
            family = family[: -len(suffix)]
            break
    total = 0.0
    found = False
    for s in families[family].samples:
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
            total += s.value
            found = True
    return total if found else 0.0


def test_ingest_counters_move_by_exactly_what_was_stored(server: Server) -> None:
    rid = server.new_run()
    before = scrape(server)
    body1 = {"writer": "w", "logs": [{"seq": i, "message": f"line {i}"} for i in range(5)]}
    # A retry that overlaps: seqs 3 and 4 are duplicates, 5..7 are new.
    body2 = {"writer": "w", "logs": [{"seq": i, "message": f"line {i}"} for i in range(3, 8)]}
    for body in (body1, body2):
        r = server.post(f"/runs/{rid}/logs/batch", body)
        assert r.status == 200, r.body
    assert server.post(f"/runs/{rid}/logs", {"message": "single"}).status == 201
    sent_bytes = (len(json.dumps(body1).encode()) + len(json.dumps(body2).encode())
                  + len(json.dumps({"message": "single"}).encode()))
    after = scrape(server)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("wanllmdb_ingest_lines_total") == 5 + 3 + 1
    assert delta("wanllmdb_ingest_duplicates_total") == 2
    assert delta("wanllmdb_ingest_batches_total") == 3
    assert delta("wanllmdb_ingest_bytes_total") == sent_bytes
    route = {"method": "POST", "route": "/runs/{run_id}/logs/batch"}
    assert delta("wanllmdb_http_request_duration_seconds_count", **route) == 2
    assert delta("wanllmdb_http_request_duration_seconds_bucket", le="+Inf", **route) == 2
    assert delta("wanllmdb_http_request_duration_seconds_sum", **route) > 0
    # The server's own store and (SQLite) disk figures are there.
    assert value(after, "wanllmdb_store_bytes") > 0
    assert value(after, "wanllmdb_build_info", version="0.1.0") == 1


def test_rejections_are_counted_by_status_and_labels_stay_bounded(server: Server) -> None:
    rid = server.new_run()
    before = scrape(server)
    assert server.request("POST", f"/runs/{rid}/logs/batch", raw=b"{not json").status == 400
    assert server.get("/runs/00000000-0000-4000-8000-00000000dead").status == 404
    for i in range(3):  # unknown paths must not become labels
        assert server.get(f"/no/such/path-{i}").status == 404
        assert server.request("GET", f"/nothing-{i}.js", api=False).status in (404, 200)
    after = scrape(server)

    def rejected(code: str) -> float:
        return (value(after, "wanllmdb_http_rejected_requests_total", code=code)
                - value(before, "wanllmdb_http_rejected_requests_total", code=code))

    assert rejected("400") == 1
    assert rejected("404") >= 5  # the unknown run, the unknown API paths (static may 404 too)
    labels = {s.labels["route"] for s in after["wanllmdb_http_request_duration_seconds"].samples}
    assert not any("path-" in r or "nothing-" in r or "dead" in r for r in labels), labels
    assert {"/runs/{run_id}", "/runs/{run_id}/logs/batch", "/metrics", "unmatched",
            "static"} <= labels
    unmatched = {"method": "any", "route": "unmatched"}
    assert (value(after, "wanllmdb_http_request_duration_seconds_count", **unmatched)
            - value(before, "wanllmdb_http_request_duration_seconds_count", **unmatched)) >= 3


def test_websocket_viewers_are_open_connections(server: Server) -> None:
    rid = server.new_run()
    assert value(scrape(server), "wanllmdb_open_connections", kind="websocket") == 0
    with connect(f"ws://127.0.0.1:{server.port}/api/v1/runs/{rid}/logs/stream") as ws:
        json.loads(ws.recv(timeout=30))  # the backlog frame: the viewer is subscribed
        m = scrape(server)
        assert value(m, "wanllmdb_open_connections", kind="websocket") == 1
        assert value(m, "wanllmdb_live_viewers") == 1
        assert value(m, "wanllmdb_live_lag_lines") >= 0
        # The scrape's own keep-alive-less connection is the HTTP one (or already gone).
        assert value(m, "wanllmdb_open_connections", kind="http") in (0, 1)
    assert wait_until(lambda: value(scrape(server), "wanllmdb_open_connections",
                                    kind="websocket") == 0, timeout=30)


@pytest.mark.sqlite_only("free disk is that of the SQLite store's directory")
def test_free_disk_is_reported(server: Server) -> None:
    m = scrape(server)
    assert 0 < value(m, "wanllmdb_disk_free_bytes") <= value(m, "wanllmdb_disk_size_bytes")


def _key(data: Path, store_args: list[str], scopes: str) -> str:
    out = subprocess.run([str(BINARY), "keys", "create", "--scopes", scopes, "--data", str(data),
                          *store_args], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _status(server: Server, key: Optional[str] = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {key}"} if key else {})
    status = conn.getresponse().status
    conn.close()
    return status


def test_with_keys_metrics_need_read_scope_unless_public(make_server: Any, tmp_path: Path,
                                                         store_args: list[str]) -> None:
    read, ingest = _key(tmp_path, store_args, "read"), _key(tmp_path, store_args, "ingest")
    server: Server = make_server().start()
    assert _status(server) == 401
    assert _status(server, ingest) == 403
    assert _status(server, read) == 200
    assert server.request("GET", "/api/v1/metrics", api=False).status == 404  # root only
    server.stop()
    public: Server = make_server(["--public-metrics"]).start()
    assert _status(public) == 200
    assert public.get("/runs").status == 401  # the flag opens /metrics only
