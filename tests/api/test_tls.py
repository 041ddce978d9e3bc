"""TLS served directly (`server --tls-cert/--tls-key`) against the real binary: HTTPS and WSS with a
self-signed certificate for 127.0.0.1/localhost made here with the openssl CLI, the Secure cookie
and the https same-origin check, plain HTTP refused, and the native client (`tail`, `run`)
verifying the certificate with --ca-file / $WANLLMDB_CA_FILE."""
from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Optional

import pytest
from websockets.sync.client import connect

from conftest import BINARY, Reply, Server, wait_until


@pytest.fixture(scope="module")
def cert(tmp_path_factory: Any) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(crt), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def trusting(crt: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(crt))


def https(server: Server, ctx: ssl.SSLContext, method: str, path: str, body: Any = None,
          headers: Optional[dict[str, str]] = None) -> Reply:
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=60, context=ctx)
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    conn.request(method, "/api/v1" + path, body=json.dumps(body).encode() if body is not None else None,
                 headers=h)
    resp = conn.getresponse()
    reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    conn.close()
    return reply


@pytest.fixture
def tls_server(make_server: Any, cert: tuple[Path, Path]) -> Server:
    crt, key = cert
    return make_server(["--tls-cert", str(crt), "--tls-key", str(key)]).start()


def new_run_with_lines(server: Server, ctx: ssl.SSLContext, lines: list[str]) -> str:
    r = https(server, ctx, "POST", "/runs", {"project": "p"})
    assert r.status == 201, r.body
    rid: str = r.json()["id"]
    r = https(server, ctx, "POST", f"/runs/{rid}/logs/batch", {"logs": [{"message": m} for m in lines]})
    assert r.status == 200, r.body
    return rid


def test_https_needs_the_certificate_trusted(tls_server: Server, cert: tuple[Path, Path]) -> None:
    ctx = trusting(cert[0])
    rid = new_run_with_lines(tls_server, ctx, ["one", "two"])
    r = https(tls_server, ctx, "GET", f"/runs/{rid}/logs")
    assert r.status == 200 and [l["message"] for l in r.json()["logs"]] == ["one", "two"]
    with pytest.raises(ssl.SSLCertVerificationError):
        https(tls_server, ssl.create_default_context(), "GET", "/health")  # system CAs only
    assert https(tls_server, ctx, "GET", "/health").status == 200  # still serving


def test_plain_http_to_the_tls_port_is_refused(tls_server: Server, cert: tuple[Path, Path]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", tls_server.port, timeout=60)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        conn.request("GET", "/api/v1/health")
        conn.getresponse().read()
    conn.close()
    assert https(tls_server, trusting(cert[0]), "GET", "/health").status == 200
    assert "http read" not in tls_server.log_path.read_text()  # refused quietly


def test_wss_viewer_gets_the_backlog(tls_server: Server, cert: tuple[Path, Path]) -> None:
    ctx = trusting(cert[0])
    rid = new_run_with_lines(tls_server, ctx, ["alpha", "beta"])
    url = f"wss://127.0.0.1:{tls_server.port}/api/v1/runs/{rid}/logs/stream"
    with connect(url, ssl=ctx, open_timeout=30) as c:
        frame = json.loads(c.recv(timeout=30))
        assert [l["message"] for l in frame["logs"]] == ["alpha", "beta"]
        https(tls_server, ctx, "POST", f"/runs/{rid}/logs/batch", {"logs": [{"message": "gamma"}]})
        while True:  # a frame per ~50 ms at most: the new line comes in a later one
            frame = json.loads(c.recv(timeout=30))
            if frame.get("logs"):
                assert frame["logs"][-1]["message"] == "gamma"
                break


@pytest.mark.sqlite_only("API keys are kept in SQLite stores only so far")
def test_session_cookie_is_secure_and_origin_is_https(make_server: Any, tmp_path: Path,
                                                      cert: tuple[Path, Path]) -> None:
    out = subprocess.run([str(BINARY), "keys", "create", "--scopes", "admin", "--data", str(tmp_path)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    crt, tls_key = cert
    server: Server = make_server(["--tls-cert", str(crt), "--tls-key", str(tls_key)]).start()
    ctx = trusting(crt)
    r = https(server, ctx, "POST", "/auth/session", {"key": key})
    assert r.status == 200, r.body
    flags = [f.strip().lower() for f in r.headers["set-cookie"].split(";")]
    assert "secure" in flags and "httponly" in flags
    cookie = r.headers["set-cookie"].split(";")[0]
    rid = https(server, ctx, "POST", "/runs", {"project": "p"}, headers={"Cookie": cookie}).json()["id"]
    plain_origin = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{server.port}"}
    assert https(server, ctx, "POST", f"/runs/{rid}/logs", {"message": "x"}, headers=plain_origin).status == 403
    ours = {"Cookie": cookie, "Origin": f"https://127.0.0.1:{server.port}"}
    assert https(server, ctx, "POST", f"/runs/{rid}/logs", {"message": "x"}, headers=ours).status == 201


def cli(*args: str, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("WANLLMDB_CA_FILE", "SSL_CERT_FILE")}
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=60,
                          env={**base, **(env or {})})


def test_cli_tail_verifies_the_server(tls_server: Server, cert: tuple[Path, Path]) -> None:
    crt = cert[0]
    rid = new_run_with_lines(tls_server, trusting(crt), ["first", "last"])
    url = f"https://127.0.0.1:{tls_server.port}"
    out = cli("tail", rid, "--server", url, "--ca-file", str(crt))
    assert out.returncode == 0, out.stderr
    assert [l.split("] ")[-1] for l in out.stdout.splitlines()] == ["first", "last"]
    out = cli("tail", rid, "--server", url, env={"WANLLMDB_CA_FILE": str(crt)})
    assert out.returncode == 0, out.stderr
    untrusted = cli("tail", rid, "--server", url)
    assert untrusted.returncode != 0 and "certificate verify failed" in untrusted.stderr
    assert untrusted.stdout == ""
    by_name = cli("tail", rid, "--server", f"https://localhost:{tls_server.port}", "--ca-file", str(crt))
    assert by_name.returncode == 0, by_name.stderr  # the DNS name in the certificate, with SNI
    missing = cli("tail", rid, "--server", url, "--ca-file", str(crt) + ".missing")
    assert missing.returncode != 0 and "cannot read the CA file" in missing.stderr


def test_cli_checks_the_certificate_names_the_host(tmp_path: Path) -> None:
    """A certificate the CA file trusts, but for another address: refused."""
    crt, key = tmp_path / "other.pem", tmp_path / "other-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(crt), "-days", "2", "-subj", "/CN=127.0.0.2",
                    "-addext", "subjectAltName=IP:127.0.0.2,DNS:elsewhere.example"],
                   check=True, capture_output=True, timeout=60)
    server = Server(tmp_path, ["--tls-cert", str(crt), "--tls-key", str(key)]).start()
    try:
        out = cli("tail", str(uuid.uuid4()), "--server", f"https://127.0.0.1:{server.port}", "--ca-file", str(crt))
        assert out.returncode != 0 and "certificate verify failed" in out.stderr, out.stderr
        assert "mismatch" in out.stderr
    finally:
        assert server.stop() == 0


def test_cli_tail_follow_over_wss(tls_server: Server, cert: tuple[Path, Path]) -> None:
    ctx = trusting(cert[0])
    rid = new_run_with_lines(tls_server, ctx, ["before"])
    proc = subprocess.Popen([str(BINARY), "tail", rid, "--follow", "--server",
                             f"https://127.0.0.1:{tls_server.port}", "--ca-file", str(cert[0])],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().endswith("before\n")
        https(tls_server, ctx, "POST", f"/runs/{rid}/logs/batch", {"logs": [{"message": "during"}]})
        assert proc.stdout.readline().endswith("during\n")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cli_run_uploads_over_https(tls_server: Server, cert: tuple[Path, Path], tmp_path: Path) -> None:
    rid = str(uuid.uuid4())
    out = cli("run", "--server", f"https://127.0.0.1:{tls_server.port}", "--ca-file", str(cert[0]),
              "--id", rid, "--spool", str(tmp_path / "spool"), "--project", "p", "--",
              "python3", "-c", "print(1)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["1"]
    ctx = trusting(cert[0])
    assert wait_until(lambda: [l["message"] for l in https(tls_server, ctx, "GET", f"/runs/{rid}/logs")
                               .json().get("logs", [])] == ["1"], timeout=60)


def test_bad_certificate_files_stop_the_start(tmp_path: Path, cert: tuple[Path, Path]) -> None:
    crt, key = cert
    other_key = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-out", str(other_key)], check=True, capture_output=True, timeout=60)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")

    def start(*tls: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BINARY), "server", "--listen", "127.0.0.1:0", "--data",
                               str(tmp_path / "data"), *tls], capture_output=True, text=True, timeout=60)

    for args, says in [
        (["--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", str(key)], "nope.pem"),
        (["--tls-cert", str(garbage), "--tls-key", str(key)], "cannot load the TLS certificate"),
        (["--tls-cert", str(crt), "--tls-key", str(garbage)], "cannot load the TLS private key"),
        (["--tls-cert", str(crt), "--tls-key", str(other_key)], "does not belong to the certificate"),
        (["--tls-cert", str(crt)], "give both"),
    ]:
        out = start(*args)
        assert out.returncode == 1, (args, out.stderr)
        assert says in out.stderr and "listening" not in out.stdout, (args, out.stderr)


SDK_SCRIPT = """
import os
import wanllmdb
run = wanllmdb.init(project="p", id=os.environ["TEST_RUN_ID"])
assert run._capture is not None and run._capture.mode == "agent", run._capture  # not in-process
print("through the sidecar")
run.finish()
"""


def test_sdk_sidecar_over_https(tls_server: Server, cert: tuple[Path, Path], tmp_path: Path) -> None:
    """The SDK's own requests and its sidecar both verify with $WANLLMDB_CA_FILE."""
    rid = str(uuid.uuid4())
    script = tmp_path / "script.py"
    script.write_text(SDK_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "WANLLMDB_CONSOLE")}
    env.update({"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "sdk" / "python"),
                "WANLLMDB_BIN": str(BINARY), "WANLLMDB_BASE_URL": f"https://127.0.0.1:{tls_server.port}",
                "WANLLMDB_CA_FILE": str(cert[0]), "WANLLMDB_DIR": str(tmp_path / "spool"),
                "TEST_RUN_ID": rid})
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ctx = trusting(cert[0])
    assert wait_until(lambda: https(tls_server, ctx, "GET", f"/runs/{rid}").json()["state"] == "finished",
                      timeout=60)
    lines = https(tls_server, ctx, "GET", f"/runs/{rid}/logs").json()["logs"]
    assert "through the sidecar" in [l["message"] for l in lines]
