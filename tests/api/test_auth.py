"""Access control against the real binary: scoped keys made with `wanllmdb keys` and the admin
API, credentials only in headers or the UI's cookie, failed-attempt limits, browser attacks
(CSRF, cross-site WebSocket, DNS rebinding) and the safe default for non-loopback addresses."""
import subprocess
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from conftest import BINARY, Server, wait_until


_STORE_ARGS: list[str] = []  # the current test's store (--store for PostgreSQL)


@pytest.fixture(autouse=True)
def _keys_cli_uses_the_test_store(store_args: list[str]) -> None:
    _STORE_ARGS[:] = store_args


def keys_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), "keys", *args, "--data", str(data), *_STORE_ARGS],
                          capture_output=True, text=True, timeout=30)


def make_key(data: Path, scopes: str, *extra: str) -> str:
    out = keys_cli(data, "create", "--scopes", scopes, *extra)
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    assert key.startswith("wlk_") and len(key) >= 4 + 12 + 1 + 32
    return key


def needs_key_store(test: Any) -> Any:
    """API keys live in the store's database: SQLite and PostgreSQL both have one, so every
    test here runs against both (kept as a marker of the tests that make keys)."""
    return test


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def secured(make_server: Any, tmp_path: Path) -> tuple[Server, dict[str, str]]:
    """A server whose store holds an admin, an ingest and a read key (made before it starts)."""
    keys = {s: make_key(tmp_path, s) for s in ("admin", "ingest", "read")}
    server: Server = make_server().start()
    return server, keys


@needs_key_store
def test_keys_are_needed_once_one_exists(secured: tuple[Server, dict[str, str]]) -> None:
    server, keys = secured
    r = server.get("/runs")
    assert r.status == 401 and r.json()["error"]["code"] == "unauthorized"
    assert server.get("/health").status == 200  # probes need no key
    r = server.request("GET", "/runs", headers=bearer("wlk_000000000000_" + "0" * 48))
    assert r.status == 403
    assert server.request("GET", "/runs", headers=bearer(keys["read"])).status == 200


@needs_key_store
def test_scopes(secured: tuple[Server, dict[str, str]]) -> None:
    server, keys = secured
    server.token = keys["ingest"]
    rid = server.new_run()
    assert server.batch(rid, ["hello"]).status == 200
    assert server.request("PATCH", f"/runs/{rid}", {"state": "finished"}).status == 200
    r = server.get(f"/runs/{rid}/logs")
    assert r.status == 403 and "'read' scope" in r.json()["error"]["message"]
    server.token = keys["read"]
    assert server.get(f"/runs/{rid}/logs").json()["logs"][0]["message"] == "hello"
    assert server.batch(rid, ["no"]).status == 403
    assert server.request("DELETE", f"/runs/{rid}/logs").status == 403
    server.token = keys["admin"]
    assert server.request("DELETE", f"/runs/{rid}/logs").status == 204


@needs_key_store
def test_keys_limited_to_projects(make_server: Any, tmp_path: Path) -> None:
    admin = make_key(tmp_path, "admin")
    team_a = make_key(tmp_path, "ingest,read", "--project", "team-a")
    server: Server = make_server().start()
    server.token = admin
    other = server.new_run(project="team-b")
    server.token = team_a
    mine = server.new_run(project="team-a")
    assert server.batch(mine, ["ok"]).status == 200
    assert server.post("/runs", {"project": "team-b"}).status == 403
    assert server.batch(other, ["nope"]).status == 403
    assert server.get(f"/runs/{other}").status == 403
    assert [p["name"] for p in server.get("/projects").json()["projects"]] == ["team-a"]
    assert server.get("/runs", project="team-b").status == 403
    assert len(server.get("/runs", project="team-a").json()["runs"]) == 1


@needs_key_store
def test_admin_api_creates_lists_and_revokes(secured: tuple[Server, dict[str, str]]) -> None:
    server, keys = secured
    server.token = keys["admin"]
    r = server.post("/keys", {"name": "ci", "scopes": ["read"]})
    assert r.status == 201
    made = r.json()
    assert made["key"].startswith("wlk_") and made["scopes"] == ["read"]
    listed = server.get("/keys").json()["keys"]
    assert any(k["id"] == made["id"] and k["name"] == "ci" for k in listed)
    assert all("key" not in k and "secret_hash" not in k for k in listed)  # never the secret
    assert server.request("GET", "/runs", headers=bearer(made["key"])).status == 200
    assert server.request("DELETE", f"/keys/{made['id']}").status == 204
    assert server.request("GET", "/runs", headers=bearer(made["key"])).status == 403
    server.token = keys["read"]
    assert server.get("/keys").status == 403
    assert server.post("/keys", {"scopes": ["admin"]}).status == 403


@needs_key_store
def test_cli_revoke_reaches_a_running_server(secured: tuple[Server, dict[str, str]],
                                             tmp_path: Path) -> None:
    server, keys = secured
    assert server.request("GET", "/runs", headers=bearer(keys["read"])).status == 200
    listed = keys_cli(tmp_path, "list")
    assert listed.returncode == 0 and keys["read"] not in listed.stdout  # ids only
    out = keys_cli(tmp_path, "revoke", keys["read"])
    assert out.returncode == 0, out.stderr
    assert wait_until(lambda: server.request(
        "GET", "/runs", headers=bearer(keys["read"])).status == 403, timeout=30)


@needs_key_store
def test_credentials_only_in_headers_and_never_logged(secured: tuple[Server, dict[str, str]]
                                                      ) -> None:
    server, keys = secured
    r = server.get("/runs", api_key=keys["admin"])
    assert r.status == 401  # a key in the URL is not accepted
    log = server.log_path.read_text()
    assert keys["admin"] not in log and "api_key=***" in log


@needs_key_store
def test_failed_attempts_are_limited_per_address(secured: tuple[Server, dict[str, str]]) -> None:
    server, keys = secured
    bad = bearer("wlk_000000000000_" + "1" * 48)
    statuses = [server.request("GET", "/runs", headers=bad).status for _ in range(25)]
    assert statuses[:20] == [403] * 20 and statuses[-1] == 429
    r = server.request("GET", "/runs", headers=bearer(keys["read"]))
    assert r.status == 429 and int(r.headers["retry-after"]) >= 1


def sign_in(server: Server, key: str) -> tuple[Any, str]:
    r = server.request("POST", "/auth/session", {"key": key})
    assert r.status == 200, r.body
    cookie = r.headers["set-cookie"]
    return r, cookie.split(";")[0]


@needs_key_store
def test_ui_session_cookie(secured: tuple[Server, dict[str, str]]) -> None:
    server, keys = secured
    me = server.get("/auth/whoami").json()
    assert me["auth_required"] is True and me["signed_in"] is False
    assert server.request("POST", "/auth/session", {"key": "wrong"}).status == 403
    r, cookie = sign_in(server, keys["read"])
    flags = r.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=strict" in flags and "secure" not in flags
    assert r.json()["scopes"] == ["read"]
    h = {"Cookie": cookie}
    assert server.request("GET", "/runs", headers=h).status == 200
    assert server.request("GET", "/auth/whoami", headers=h).json()["via"] == "cookie"
    assert server.request("DELETE", "/auth/session", headers=h).status == 204
    assert server.request("GET", "/runs", headers=h).status == 403  # signed out


@needs_key_store
def test_csrf_cookie_writes_need_our_origin(secured: tuple[Server, dict[str, str]]) -> None:
    server, keys = secured
    _, cookie = sign_in(server, keys["admin"])
    rid = server.request("POST", "/runs", {"project": "p"}, headers={"Cookie": cookie}).json()["id"]
    evil = {"Cookie": cookie, "Origin": "http://evil.example"}
    r = server.request("POST", f"/runs/{rid}/logs", {"message": "x"}, headers=evil)
    assert r.status == 403 and "cross-site" in r.json()["error"]["message"]
    ours = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{server.port}"}
    assert server.request("POST", f"/runs/{rid}/logs", {"message": "x"}, headers=ours).status == 201


@pytest.mark.parametrize("content_type,body", [
    ("text/plain", b'{"project": "p"}'),
    ("application/x-www-form-urlencoded", b"project=p"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--"),
])
def test_json_routes_accept_only_json(server: Server, content_type: str, body: bytes) -> None:
    """Any web page can POST these types cross-site without a preflight: refuse them."""
    r = server.request("POST", "/runs", raw=body, headers={"Content-Type": content_type})
    assert r.status == 415
    assert server.get("/runs").json()["runs"] == []  # nothing created


@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
def test_cross_site_websocket_is_refused(server: Server, origin: str) -> None:
    rid = server.new_run()
    url = f"ws://127.0.0.1:{server.port}/api/v1/runs/{rid}/logs/stream"
    with pytest.raises(InvalidStatus) as e:
        connect(url, origin=origin, open_timeout=5)  # type: ignore[arg-type]
    assert e.value.response.status_code == 403
    with connect(url, origin=f"http://127.0.0.1:{server.port}", open_timeout=5) as c:  # type: ignore[arg-type]
        assert '"logs"' in str(c.recv(timeout=5))


def test_dns_rebinding_host_is_refused(server: Server) -> None:
    r = server.request("GET", "/runs", headers={"Host": "evil.example"})
    assert r.status == 400 and "evil.example" in r.json()["error"]["message"]
    assert server.request("GET", "/runs", headers={"Host": f"localhost:{server.port}"}).status == 200


def test_security_headers(make_server: Any, tmp_path: Path) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<html>app</html>")
    server: Server = make_server(["--web", str(web)]).start()
    page = server.request("GET", "/", api=False)
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    api = server.get("/runs")
    assert api.headers["x-content-type-options"] == "nosniff"


def test_non_loopback_without_keys_refuses_to_start(make_server: Any, tmp_path: Path) -> None:
    out = subprocess.run([str(BINARY), "server", "--listen", "0.0.0.0:0", "--data", str(tmp_path)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "--allow-anonymous" in out.stderr
    # Start on every interface, talk over loopback only.
    proc = subprocess.Popen([str(BINARY), "server", "--listen", "0.0.0.0:0", "--data",
                             str(tmp_path), "--allow-anonymous"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().decode().startswith("listening on port ")
        assert "WARNING: anonymous access" in proc.stderr.readline().decode() + \
            proc.stderr.readline().decode()
    finally:
        proc.kill()
        proc.wait()


@needs_key_store
def test_require_auth_prints_a_first_admin_key_once(make_server: Any, tmp_path: Path) -> None:
    server: Server = make_server(["--require-auth"]).start()
    log = server.log_path.read_text()
    key = next(w for w in log.split() if w.startswith("wlk_"))
    assert server.get("/runs").status == 401
    assert server.request("GET", "/runs", headers=bearer(key)).status == 200
    assert server.stop() == 0
    again: Server = make_server(["--require-auth"], data_dir=tmp_path).start()
    assert again.log_path.read_text().count("wlk_") == 1  # not printed again


@needs_key_store
def test_bootstrap_key_file(make_server: Any, tmp_path: Path) -> None:
    gen = subprocess.run([str(BINARY), "keys", "generate"], capture_output=True, text=True)
    key = gen.stdout.strip()
    f = tmp_path / "admin.key"
    f.write_text(key + "\n")
    server: Server = make_server(["--bootstrap-key-file", str(f)]).start()
    assert server.get("/runs").status == 401
    assert server.request("GET", "/keys", headers=bearer(key)).status == 200
