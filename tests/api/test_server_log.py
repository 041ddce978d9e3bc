"""--log-format json against the real binary: one JSON object per line on stderr, a line per
request with method, route (the route table's pattern), status, duration, bytes and client, and
no secret anywhere (credential-like query values redacted, headers never logged)."""
from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import connect

from conftest import Server


def test_json_log_has_a_line_per_request_and_no_secrets(make_server: Any) -> None:
    secret = "wlk_0123456789ab_" + "f" * 48
    server: Server = make_server(["--log-format", "json"]).start()
    rid = server.new_run()
    assert server.batch(rid, ["hello"]).status == 200
    r = server.request("GET", f"/runs/{rid}/logs?limit=5&api_key={secret}&token={secret}",
                       headers={"Cookie": f"wanllmdb_session={secret}"})
    assert r.status == 200
    assert server.get("/no/such/thing").status == 404
    with connect(f"ws://127.0.0.1:{server.port}/api/v1/runs/{rid}/logs/stream") as ws:
        ws.recv(timeout=30)
    assert server.stop() == 0
    text = server.log_path.read_text()
    assert secret not in text and "f" * 48 not in text
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    requests = [r for r in records if r.get("msg") == "request"]
    by_route = {(r["method"], r["route"]): r for r in requests}
    batch = by_route[("POST", "/runs/{run_id}/logs/batch")]
    assert batch["status"] == 200 and batch["client"] == "127.0.0.1"
    assert batch["bytes"] > 0 and batch["duration_us"] >= 0
    assert batch["target"] == f"/api/v1/runs/{rid}/logs/batch"
    listing = by_route[("GET", "/runs/{run_id}/logs")]
    assert listing["target"] == f"/api/v1/runs/{rid}/logs?limit=5&api_key=***&token=***"
    assert by_route[("GET", "unmatched")]["status"] == 404
    assert any(r.get("msg") == "websocket" and r["route"] == "/runs/{run_id}/logs/stream"
               and r["status"] == 101 for r in records)
    assert all("time" in r and "level" in r for r in records)
    # The server's own events are JSON too.
    assert any("listening on" in r["msg"] for r in records)
    assert records[-1]["msg"] == "wanllmdb: stopped"


def test_text_log_stays_the_default(server: Server) -> None:
    rid = server.new_run()
    assert server.get(f"/runs/{rid}?token=hunter2").status == 200
    server.stop()
    text = server.log_path.read_text()
    assert f"GET /api/v1/runs/{rid}?token=*** 200 " in text
    assert "hunter2" not in text
