"""A small HTTP client for the wanLLMDB API (doc/api.md): keep-alive, JSON, no retries.

Retrying is the caller's business (the uploader knows what is safe to repeat); this module only
classifies outcomes. Not thread-safe: each thread that talks to the server owns its own ApiClient.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import Any, Dict, Optional

from ._version import __version__

API_PREFIX = "/api/v1"


class TransportError(Exception):
    """The request did not get an HTTP answer (refused, reset, timed out, DNS)."""


@dataclass
class Response:
    status: int
    body: Any  # decoded JSON, or None
    retry_after: Optional[float]  # seconds, from a Retry-After header

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """5xx, 429 and 408 may succeed later; any other 4xx will not. 401/403 count as an
        outage too: a rotated key must not drop the rest of a run; the spool keeps it for
        `sync` with a good key."""
        return self.status >= 500 or self.status in (401, 403, 408, 429)

    @property
    def auth_refused(self) -> bool:
        return self.status in (401, 403)

    def error_text(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            err = self.body["error"]
            return f"{self.status} {err.get('code', '')}: {err.get('message', '')}"
        return f"HTTP {self.status}"


def _parse_retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare for APIs, and the backoff still applies


def tls_context() -> ssl.SSLContext:
    """The server's certificate is verified: against $WANLLMDB_CA_FILE when set (a private CA;
    the native sidecar reads the same variable), else the system CAs ($SSL_CERT_FILE honoured)."""
    ca_file = os.environ.get("WANLLMDB_CA_FILE") or None
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class ApiClient:
    """One keep-alive connection to the server; reconnects on demand."""

    def __init__(self, base_url: str, api_key: Optional[str], timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or (443 if self._https else 80)
        # A base URL may carry a path prefix (a reverse proxy); the API lives below it.
        self._prefix = parsed.path.rstrip("/") + API_PREFIX
        self._timeout = timeout
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "User-Agent": "wanllmdb-python/" + __version__}
        if api_key:
            self._headers["Authorization"] = "Bearer " + api_key
        self._conn: Optional[http.client.HTTPConnection] = None

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout,
                                                         context=tls_context())
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        else:
            self._conn.timeout = timeout
            if self._conn.sock is not None:
                self._conn.sock.settimeout(timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def forget(self) -> None:
        """Drops the connection without touching the socket (a fork child must not use it)."""
        self._conn = None

    def request(self, method: str, path: str, body: Any = None, *, raw_body: Optional[bytes] = None,
                timeout: Optional[float] = None) -> Response:
        """Sends one request; raises TransportError when there is no HTTP answer."""
        data = raw_body if raw_body is not None else (None if body is None else json.dumps(body).encode("utf-8"))
        url = self._prefix + path
        # A keep-alive connection the server closed while idle fails on first use; one immediate
        # retry on a fresh connection is safe because no byte of the answer was received.
        for attempt in (0, 1):
            conn = self._connection(self._timeout if timeout is None else timeout)
            try:
                conn.request(method, url, body=data, headers=self._headers)
                resp = conn.getresponse()
                payload = resp.read()
                status = resp.status
                retry_after = _parse_retry_after(resp.getheader("Retry-After"))
                if resp.will_close:
                    self.close()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                self.close()
                if attempt == 1:
                    raise TransportError(str(e) or type(e).__name__) from None
            except (OSError, http.client.HTTPException, socket.timeout) as e:
                self.close()
                raise TransportError(str(e) or type(e).__name__) from None
        decoded: Any = None
        if payload:
            try:
                decoded = json.loads(payload)
            except ValueError:
                decoded = None
        return Response(status, decoded, retry_after)

    def create_run(self, run_body: Dict[str, Any], timeout: Optional[float] = None) -> Response:
        return self.request("POST", "/runs", run_body, timeout=timeout)

    def set_run_state(self, run_id: str, state: str, exit_code: Optional[int],
                      timeout: Optional[float] = None) -> Response:
        # merge: a run another writer already ended worse (a rank failed) keeps that end.
        return self.request("PATCH", "/runs/" + urllib.parse.quote(run_id),
                            {"state": state, "exit_code": exit_code, "merge": True}, timeout=timeout)

    def post_batch(self, run_id: str, raw_body: bytes, timeout: Optional[float] = None) -> Response:
        return self.request("POST", "/runs/" + urllib.parse.quote(run_id) + "/logs/batch",
                            raw_body=raw_body, timeout=timeout)
