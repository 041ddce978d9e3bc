"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document that is true to the router (every
documented operation is served, no other method is served on a documented path) and to
doc/api.md (the same routes)."""
from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate
from websockets.sync.client import connect

from conftest import ROOT, Server

METHODS = ("get", "post", "put", "patch", "delete")


def spec(server: Server) -> dict[str, Any]:
    r = server.get("/openapi.json")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    return r.json()


def routed(server: Server, method: str, path: str) -> bool:
    """Whether the router serves `method path` (any answer but 405 or 'no such endpoint')."""
    # A JSON array: every handler refuses it before doing anything (no key gets created).
    r = server.request(method.upper(), path, raw=b"[]", api=False, headers={"Content-Type": "application/json"})
    if r.status == 405:
        return False
    return not (r.status == 404 and b"no such endpoint" in r.body)


def test_the_document_is_valid_openapi_3_1(server: Server) -> None:
    doc = spec(server)
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_every_documented_operation_is_routed_and_no_other_method(server: Server) -> None:
    doc = spec(server)
    rid = server.new_run()
    for path, item in doc["paths"].items():
        concrete = path.replace("{run_id}", rid).replace("{key_id}", "000000000000").replace("{project}", "proj")
        for method in METHODS:
            op = item.get(method)
            if op and op["operationId"] == "streamLogs":  # a WebSocket upgrade
                with connect(f"ws://127.0.0.1:{server.port}{concrete}", open_timeout=10) as ws:
                    assert ws.recv(timeout=10)
                continue
            if method == "delete" and op:
                continue  # served (checked below on a throwaway run), not to be run on the shared one
            assert routed(server, method, concrete) == (op is not None), (method, path)
    victim = server.new_run()
    for path, item in doc["paths"].items():
        if "delete" in item:
            assert routed(server, "delete", path.replace("{run_id}", victim).replace("{key_id}", "000000000000")), path


def test_the_document_and_doc_api_md_list_the_same_routes(server: Server) -> None:
    text = (ROOT / "doc" / "api.md").read_text()
    documented = set()
    for method, path in re.findall(r"`(GET|POST|PATCH|DELETE|PUT|WS) (/[^` ?]*)", text):
        path = path.replace("/runs/{id}", "/runs/{run_id}").replace("/keys/{id}", "/keys/{key_id}")
        full = path if path.startswith(("/v1/", "/loki/", "/metrics")) else "/api/v1" + path
        documented.add(("get" if method == "WS" else method.lower(), full))
    in_spec = {(m, p) for p, item in spec(server)["paths"].items() for m in METHODS if m in item}
    assert in_spec == documented
