"""POST /v1/logs (OTLP/HTTP logs): the real OpenTelemetry Python SDK and its OTLP/HTTP exporter,
hand-written OTLP JSON, gzip, the attribute mapping of doc/api.md, all-or-nothing, dedup by
wanllmdb.seq, level detection, the live hub, auth and the error replies the protocol wants."""
from __future__ import annotations

import gzip
import json
import logging
import uuid
from typing import Any, Iterator

import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import LogExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from conftest import Server, wait_until
from test_stream import collect_lines, recv, ws


class RecordingExporter(OTLPLogExporter):
    """The real exporter, remembering what each export returned."""

    results: list[Any]

    def export(self, batch: Any) -> Any:  # type: ignore[override]
        result = super().export(batch)
        self.results.append(result)
        return result


def otel_logger(server: Server, resource: dict[str, Any], compression: Compression = Compression.NoCompression,
                headers: dict[str, str] | None = None) -> Iterator[tuple[logging.Logger, RecordingExporter]]:
    exporter = RecordingExporter(endpoint=f"{server.base}/v1/logs", compression=compression,
                                 headers=headers, timeout=30)
    exporter.results = []
    provider = LoggerProvider(resource=Resource.create(resource))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger("otel-test-" + uuid.uuid4().hex)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
    try:
        yield logger, exporter
    finally:
        provider.shutdown()


def lines_of(server: Server, run_id: str) -> list[dict[str, Any]]:
    if server.get(f"/runs/{run_id}").status != 200:
        return []
    return server.all_lines(run_id)


def post_otlp(server: Server, body: Any, *, gz: bool = False, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"Content-Type": content_type, **(headers or {})}
    if gz:
        raw = gzip.compress(raw)
        h["Content-Encoding"] = "gzip"
    return server.request("POST", "/v1/logs", raw=raw, headers=h, api=False)


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def request(resource: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceLogs": [{"resource": {"attributes": [attr(k, v) for k, v in resource.items()]},
                              "scopeLogs": [{"scope": {"name": "t"}, "logRecords": records}]}]}


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_opentelemetry_sdk_exporter_feeds_a_new_run(server: Server, compression: Compression) -> None:
    rid = str(uuid.uuid4())
    for logger, exporter in otel_logger(server, {"wanllmdb.run_id": rid, "wanllmdb.project": "otel",
                                                  "service.name": "trainer", "rank": 3}, compression):
        logger.debug("step 1 loss 0.5")
        logger.info("epoch 1 done")
        logger.warning("lr is high")
        logger.error("nan in grads")
        logger.critical("giving up")
        assert exporter.results == [LogExportResult.SUCCESS] * 5
    run = server.get(f"/runs/{rid}").json()
    assert run["project"] == "otel"
    lines = server.all_lines(rid)
    assert [(x["message"], x["level"], x["writer"], x["source"]) for x in lines] == [
        ("step 1 loss 0.5", "DEBUG", "rank-3", "user"),
        ("epoch 1 done", "INFO", "rank-3", "user"),
        ("lr is high", "WARNING", "rank-3", "user"),
        ("nan in grads", "ERROR", "rank-3", "user"),
        ("giving up", "CRITICAL", "rank-3", "user"),
    ]


def test_json_encoding_with_gzip_maps_every_documented_attribute(server: Server) -> None:
    rid = server.new_run("json-proj")
    body = request({"wanllmdb.run_id": rid, "service.instance.id": "host-a-17"}, [
        {"timeUnixNano": "1700000000123456000", "severityNumber": 13, "body": {"stringValue": "warned"}},
        {"time_unix_nano": 1700000001000000000, "severityNumber": "SEVERITY_NUMBER_ERROR4",
         "body": {"kvlistValue": {"values": [attr("loss", 1), {"key": "ok", "value": {"boolValue": False}}]}}},
        {"observedTimeUnixNano": "1700000002000000000", "severityText": "fatal",
         "body": {"stringValue": "line one\nline two"},
         "attributes": [attr("wanllmdb.writer", "custom"), attr("log.iostream", "stderr")]},
    ])
    r = post_otlp(server, body, gz=True)
    assert r.status == 200, r.body
    assert r.headers["content-type"] == "application/json" and r.json() == {}
    lines = server.all_lines(rid)
    assert [(x["message"], x["level"], x["writer"], x["source"]) for x in lines] == [
        ("warned", "WARNING", "host-a-17", "user"),
        ('{"loss":1,"ok":false}', "ERROR", "host-a-17", "user"),
        ("line one", "CRITICAL", "custom", "stderr"),
        ("line two", "CRITICAL", "custom", "stderr"),
    ]
    assert lines[0]["timestamp"] == "2023-11-14T22:13:20.123456Z"
    assert lines[2]["timestamp"] == "2023-11-14T22:13:22.000000Z"


def test_levels_without_severity_are_detected_like_the_batch_api(server: Server) -> None:
    rid = server.new_run()
    texts = ["WARNING:root:disk almost full", "Traceback (most recent call last):",
             '  File "x.py", line 1, in <module>', "ValueError: bad", "after the error",
             "see https://example.com/error"]
    r = post_otlp(server, request({"wanllmdb.run_id": rid}, [{"body": {"stringValue": t}} for t in texts]))
    assert r.status == 200, r.body
    assert [x["level"] for x in server.all_lines(rid)] == ["WARNING", "ERROR", "ERROR", "ERROR", "INFO", "INFO"]


def test_a_request_is_stored_whole_or_not_at_all(server: Server) -> None:
    good, bad = server.new_run(), str(uuid.uuid4())
    body = request({"wanllmdb.run_id": good}, [{"body": {"stringValue": "kept?"}}])
    body["resourceLogs"] += request({"wanllmdb.run_id": bad}, [{"body": {"stringValue": "x"}}])["resourceLogs"]
    r = post_otlp(server, body)
    assert r.status == 404, r.body  # an unknown run and no project to create it in
    assert "wanllmdb.project" in r.json()["message"]
    assert server.all_lines(good) == []
    body["resourceLogs"][1]["scopeLogs"][0]["logRecords"][0]["severityNumber"] = 99
    r = post_otlp(server, body)
    assert r.status == 400 and "severityNumber" in r.json()["message"]
    assert server.all_lines(good) == []
    assert server.get(f"/runs/{bad}").status == 404


def test_retry_with_wanllmdb_seq_is_stored_once(server: Server) -> None:
    rid = server.new_run()
    body = request({"wanllmdb.run_id": rid, "rank": 0},
                   [{"body": {"stringValue": f"m{i}"}, "attributes": [attr("wanllmdb.seq", i)]} for i in range(3)])
    for _ in range(2):
        assert post_otlp(server, body).status == 200
    assert [x["message"] for x in server.all_lines(rid)] == ["m0", "m1", "m2"]


def test_live_viewers_get_otlp_lines(server: Server) -> None:
    rid = server.new_run()
    with ws(server, rid) as c:
        assert recv(c) == {"type": "logs", "logs": []}
        assert post_otlp(server, request({"wanllmdb.run_id": rid}, [{"body": {"stringValue": "live!"}}])).status == 200
        assert [x["message"] for x in collect_lines(c, 1)] == ["live!"]


def test_bad_payloads_get_otlp_errors_in_the_request_encoding(server: Server) -> None:
    truncated = b"\x0a\xff\xff\xff\x0f"  # field 1, a length far past the end
    r = post_otlp(server, truncated, content_type="application/x-protobuf")
    assert r.status == 400 and r.headers["content-type"] == "application/x-protobuf"
    status = status_pb2.Status.FromString(r.body)
    assert status.code == 3 and "ExportLogsServiceRequest" in status.message
    r = post_otlp(server, b"{not json")
    assert r.status == 400 and "message" in r.json()
    r = post_otlp(server, b"gzip? no", gz=False, headers={"Content-Encoding": "gzip"})
    assert r.status == 400 and "gzip" in r.json()["message"]
    assert post_otlp(server, b"{}", content_type="text/plain").status == 415
    assert post_otlp(server, request({"project": "p"}, [{"body": {"stringValue": "no run"}}])).status == 400
    assert post_otlp(server, request({"wanllmdb.run_id": "not-a-uuid"}, [{}])).status == 400
    assert server.request("GET", "/v1/logs", api=False).status == 405
    bomb = gzip.compress(b" " * (80 * 1024 * 1024))  # a small body that inflates past the limit
    assert post_otlp(server, bomb, content_type="application/json",
                     headers={"Content-Encoding": "gzip"}).status == 413
    ok = logs_service_pb2.ExportLogsServiceRequest()
    r = post_otlp(server, ok.SerializeToString(), content_type="application/x-protobuf")
    assert r.status == 200 and r.headers["content-type"] == "application/x-protobuf"


def test_the_api_key_guards_otlp_like_the_batch_api(make_server: Any) -> None:
    server = make_server(["--api-key", "s3cret"]).start()
    rid = str(uuid.uuid4())
    resource = {"wanllmdb.run_id": rid, "wanllmdb.project": "auth"}
    for logger, exporter in otel_logger(server, resource):
        logger.info("refused")
        assert exporter.results == [LogExportResult.FAILURE]
    r = post_otlp(server, b"", content_type="application/x-protobuf")
    assert r.status == 401 and status_pb2.Status.FromString(r.body).code == 16
    for logger, exporter in otel_logger(server, resource, headers={"Authorization": "Bearer s3cret"}):
        logger.info("let in")
        assert exporter.results == [LogExportResult.SUCCESS]
    lines = server.request("GET", f"/runs/{rid}/logs", headers={"Authorization": "Bearer s3cret"}).json()["logs"]
    assert [x["message"] for x in lines] == ["let in"]


def test_proto_subset_matches_upstream_opentelemetry_proto(tmp_path: Any) -> None:
    """Our otlp_logs.proto names the real field numbers: compared with opentelemetry-proto."""
    import subprocess
    import sys

    from conftest import ROOT
    subprocess.run(["protoc", f"-I{ROOT / 'src/server/proto'}", f"--python_out={tmp_path}", "otlp_logs.proto"],
                   check=True)
    dump = ("import json,sys; sys.path.insert(0, sys.argv[1]); import otlp_logs_pb2 as m; "
            "print(json.dumps({n: {f.name: [f.number, f.type] for f in d.fields} "
            "for n, d in m.DESCRIPTOR.message_types_by_name.items()}))")
    ours = json.loads(subprocess.run([sys.executable, "-c", dump, str(tmp_path)], check=True,
                                     capture_output=True, text=True).stdout)
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.logs.v1 import logs_pb2
    from opentelemetry.proto.resource.v1 import resource_pb2
    upstream = {}
    for mod in (common_pb2, resource_pb2, logs_pb2, logs_service_pb2):
        for name, d in mod.DESCRIPTOR.message_types_by_name.items():
            upstream[name] = {f.name: [f.number, f.type] for f in d.fields}
    enum, int32 = 14, 5  # severity_number: the enum is an int32 on the wire
    for name, fields in ours.items():
        if name == "RpcStatus":
            continue
        for field, (number, kind) in fields.items():
            if name == "LogRecord" and field == "event_name":
                continue  # newer than the opentelemetry-proto this exporter ships
            up = upstream[name][field]
            assert up[0] == number and (up[1] == kind or (up[1], kind) == (enum, int32)), (name, field)


def test_invalid_utf8_in_a_protobuf_string_is_a_400_and_logs_nothing(server: Server) -> None:
    """libprotobuf writes an ERROR line to stderr for every string field that is not UTF-8: a
    client posting such bodies in a loop would flood the server's log."""
    any_value = b"\x0a\x01\xff"  # AnyValue.string_value = b"\xff"
    record = b"\x2a" + bytes([len(any_value)]) + any_value  # LogRecord.body
    scope = b"\x12" + bytes([len(record)]) + record  # ScopeLogs.log_records
    resource = b"\x12" + bytes([len(scope)]) + scope  # ResourceLogs.scope_logs
    body = b"\x0a" + bytes([len(resource)]) + resource  # ExportLogsServiceRequest.resource_logs
    for _ in range(20):
        r = post_otlp(server, body, content_type="application/x-protobuf")
        assert r.status == 400, r.body
    assert server.get("/health").status == 200
    assert "libprotobuf" not in server.log_path.read_text(errors="replace")
