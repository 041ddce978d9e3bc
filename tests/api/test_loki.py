"""POST /loki/api/v1/push: JSON from the real python-logging-loki client (v1 and legacy shapes),
snappy-compressed protobuf from a client built from Loki's push.proto (our subset, compiled by
protoc), the label mapping of doc/api.md, all-or-nothing, the live hub, auth and error codes."""
from __future__ import annotations

import gzip
import importlib
import json
import logging
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import cramjam
import logging_loki
import pytest

from conftest import ROOT, Server
from test_stream import collect_lines, recv, ws


@pytest.fixture(scope="module")
def logproto(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("logproto")
    subprocess.run(["protoc", f"-I{ROOT / 'src/server/proto'}", f"--python_out={out}", "loki_push.proto"],
                   check=True)
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("loki_push_pb2")
    finally:
        sys.path.remove(str(out))


class FailingHandlerError(AssertionError):
    pass


def loki_logger(server: Server, tags: dict[str, str], version: str) -> logging.Logger:
    handler = logging_loki.LokiHandler(url=f"{server.base}/loki/api/v1/push", tags=tags, version=version)

    def fail(record: logging.LogRecord) -> None:  # the client swallows errors into handleError
        raise FailingHandlerError(f"push failed for {record.getMessage()!r}")

    handler.handleError = fail  # type: ignore[method-assign]
    logger = logging.getLogger("loki-test-" + uuid.uuid4().hex)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger


def push(server: Server, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Any:
    return server.request("POST", "/loki/api/v1/push", raw=body, api=False,
                          headers={"Content-Type": content_type, **(headers or {})})


def snappy_push(logproto: Any, streams: list[tuple[str, list[tuple[int, str, dict[str, str]]]]]) -> bytes:
    req = logproto.PushRequest()
    for labels, entries in streams:
        s = req.streams.add()
        s.labels = labels
        for ns, line, metadata in entries:
            e = s.entries.add()
            e.timestamp.seconds, e.timestamp.nanos = divmod(ns, 1_000_000_000)
            e.line = line
            for k, v in metadata.items():
                m = e.structuredMetadata.add()
                m.name, m.value = k, v
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


@pytest.mark.parametrize("version", ["1", "0"])
def test_python_logging_loki_feeds_a_new_run(server: Server, version: str) -> None:
    rid = str(uuid.uuid4())
    logger = loki_logger(server, {"run_id": rid, "project": "loki", "rank": "2"}, version)
    logger.info("epoch 1")
    logger.warning("slow step")
    logger.error("oom")
    logger.debug("detail", extra={"tags": {"writer": "helper"}})
    assert server.get(f"/runs/{rid}").json()["project"] == "loki"
    lines = server.all_lines(rid)
    assert [(x["message"], x["level"], x["writer"]) for x in lines] == [
        ("epoch 1", "INFO", "rank-2"), ("slow step", "WARNING", "rank-2"), ("oom", "ERROR", "rank-2"),
        ("detail", "DEBUG", "helper")]


def test_snappy_protobuf_push_maps_labels_and_structured_metadata(server: Server, logproto: Any) -> None:
    rid = server.new_run("pb")
    t0 = 1_700_000_000_123_456_000
    body = snappy_push(logproto, [
        (f'{{run_id="{rid}", rank="0", stream="stderr", job="train \\"x\\""}}',
         [(t0, "rank 0 says hi", {}), (t0 + 1000, "E0102 15:04:05.000 x.cc:1] glog error", {})]),
        (f'{{wanllmdb_run_id="{rid}",rank="1"}}', [(t0 + 2000, "plain", {"level": "warn"})]),
    ])
    r = push(server, body, "application/x-protobuf")
    assert r.status == 204, r.body
    lines = server.all_lines(rid)
    assert [(x["message"], x["level"], x["writer"], x["source"]) for x in lines] == [
        ("rank 0 says hi", "INFO", "rank-0", "stderr"),
        ("E0102 15:04:05.000 x.cc:1] glog error", "ERROR", "rank-0", "stderr"),
        ("plain", "WARNING", "rank-1", "stdout"),
    ]
    assert lines[0]["timestamp"] == "2023-11-14T22:13:20.123456Z"


def test_a_push_is_stored_whole_or_not_at_all(server: Server, logproto: Any) -> None:
    rid = server.new_run()
    good = (f'{{run_id="{rid}"}}', [(1_700_000_000_000_000_000, "first", {})])
    for bad in [(f'{{run_id="{uuid.uuid4()}"}}', [(1, "unknown run, no project", {})]),
                (f'{{run_id="{rid}", rank="-1"}}', [(1, "bad rank", {})]),
                ('{run_id="', [(1, "bad labels", {})])]:
        r = push(server, snappy_push(logproto, [good, bad]), "application/x-protobuf")
        assert r.status in (400, 404), r.body
        assert server.all_lines(rid) == []


def test_live_viewers_get_pushed_lines(server: Server) -> None:
    rid = server.new_run()
    with ws(server, rid) as c:
        assert recv(c) == {"type": "logs", "logs": []}
        body = {"streams": [{"stream": {"run_id": rid}, "values": [["1700000000000000000", "pushed"]]}]}
        assert push(server, json.dumps(body).encode(), "application/json").status == 204
        assert [x["message"] for x in collect_lines(c, 1)] == ["pushed"]


def test_gzip_json_and_error_codes(server: Server) -> None:
    rid = server.new_run()
    body = {"streams": [{"stream": {"run_id": rid}, "values": [["1700000000000000000", "zipped", {"level": "error"}]]}]}
    r = push(server, gzip.compress(json.dumps(body).encode()), "application/json", {"Content-Encoding": "gzip"})
    assert r.status == 204, r.body
    assert [(x["message"], x["level"]) for x in server.all_lines(rid)] == [("zipped", "ERROR")]
    assert push(server, b"not snappy", "application/x-protobuf").status == 400
    assert push(server, b"{}", "text/plain").status == 415
    assert push(server, b'{"streams": [{"stream": {"run_id": 5}, "values": []}]}', "application/json").status == 400
    assert push(server, json.dumps({"streams": [{"stream": {"run_id": rid}, "values": [["soon", "x"]]}]}).encode(),
                "application/json").status == 400
    assert server.request("GET", "/loki/api/v1/push", api=False).status == 405
    assert [x["message"] for x in server.all_lines(rid)] == ["zipped"]


def test_the_api_key_guards_loki_push(make_server: Any) -> None:
    server = make_server(["--api-key", "k3y"]).start()
    rid = str(uuid.uuid4())
    body = json.dumps({"streams": [{"stream": {"run_id": rid, "project": "p"},
                                    "values": [["1700000000000000000", "x"]]}]}).encode()
    assert push(server, body, "application/json").status == 401
    assert push(server, body, "application/json", {"Authorization": "Bearer wrong"}).status == 403
    assert push(server, body, "application/json", {"Authorization": "Bearer k3y"}).status == 204


def test_a_push_over_the_line_limit_across_writers_creates_and_stores_nothing(server: Server) -> None:
    # Two writers of 6,000 lines each (1,000 entries of 6 lines): each under a batch's 10,000
    # lines, together over them.
    rid = str(uuid.uuid4())
    six = "\n".join(f"line {i}" for i in range(6))
    streams = [{"stream": {"run_id": rid, "project": "loki", "rank": str(r)},
                "values": [[str(1700000000000000000 + i), six] for i in range(1000)]} for r in (0, 1)]
    r = push(server, json.dumps({"streams": streams}).encode(), "application/json")
    assert r.status == 413 and "10000 lines" in r.json()["error"]["message"]
    assert server.get(f"/runs/{rid}").status == 404
    # One message of newlines counts by its lines too.
    r = push(server, json.dumps({"streams": [{"stream": {"run_id": rid, "project": "loki"},
                                               "values": [["1700000000000000000", "x\n" * 10001]]}]}).encode(),
             "application/json")
    assert r.status == 413
    assert server.get(f"/runs/{rid}").status == 404
    streams[1]["values"] = streams[1]["values"][:666] + [["1700000000000000000", "a\nb\nc\nd"]]
    assert push(server, json.dumps({"streams": streams}).encode(), "application/json").status == 204
    assert server.get(f"/runs/{rid}").json()["line_count"] == 10000
