"""Behind a reverse proxy (issue 8 item 12): X-Forwarded-For and X-Forwarded-Proto count only
from addresses given with --trust-proxy — then the session cookie is Secure, a browser's
https Origin matches, and failed sign-ins are limited per real client, not per proxy."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from conftest import BINARY, Server

from test_auth import _keys_cli_uses_the_test_store, bearer, make_key, sign_in  # noqa: F401 (fixture)


def via_proxy(client: str, proto: str = "https") -> dict[str, str]:
    return {"X-Forwarded-For": client, "X-Forwarded-Proto": proto}


def test_forwarded_headers_from_a_trusted_proxy(make_server: Any, tmp_path: Path) -> None:
    admin = make_key(tmp_path, "admin")
    server: Server = make_server(["--trust-proxy", "127.0.0.1"]).start()
    r = server.request("POST", "/auth/session", {"key": admin}, headers=via_proxy("203.0.113.5"))
    assert r.status == 200, r.body
    assert "secure" in r.headers["set-cookie"].lower()  # the browser spoke https to the proxy
    cookie = r.headers["set-cookie"].split(";")[0]
    page = {"Cookie": cookie, "Origin": f"https://127.0.0.1:{server.port}",
            **via_proxy("203.0.113.5")}
    assert server.request("POST", "/runs", {"project": "p"}, headers=page).status == 201
    # Failed attempts count per forwarded client: one client locked out, another not.
    bad = {**bearer("wlk_000000000000_" + "1" * 48), **via_proxy("198.51.100.1, 203.0.113.9")}
    statuses = [server.request("GET", "/runs", headers=bad).status for _ in range(21)]
    assert statuses[-1] == 429, statuses
    # The client-claimed 198.51.100.1 was not the one counted: the proxy saw 203.0.113.9.
    other = {**bearer(admin), **via_proxy("198.51.100.1")}
    assert server.request("GET", "/runs", headers=other).status == 200
    same = {**bearer(admin), **via_proxy("203.0.113.9")}
    assert server.request("GET", "/runs", headers=same).status == 429


def test_forwarded_headers_from_anyone_else_are_ignored(make_server: Any, tmp_path: Path) -> None:
    admin = make_key(tmp_path, "admin")
    server: Server = make_server().start()
    r, cookie = sign_in(server, admin)
    r = server.request("POST", "/auth/session", {"key": admin}, headers=via_proxy("203.0.113.5"))
    assert "secure" not in r.headers["set-cookie"].lower()
    page = {"Cookie": cookie, "Origin": f"https://127.0.0.1:{server.port}",
            **via_proxy("203.0.113.5")}
    assert server.request("POST", "/runs", {"project": "p"}, headers=page).status == 403
    # Rotating a made-up X-Forwarded-For does not escape the failed-attempt limit.
    for i in range(21):
        bad = {**bearer("wlk_000000000000_" + "1" * 48), **via_proxy(f"203.0.113.{i}")}
        status = server.request("GET", "/runs", headers=bad).status
    assert status == 429


def test_trust_proxy_wants_an_address(tmp_path: Path) -> None:
    out = subprocess.run([str(BINARY), "server", "--listen", "127.0.0.1:0", "--data", str(tmp_path),
                          "--trust-proxy", "proxy.example"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "--trust-proxy wants the proxy's IP address" in out.stderr
