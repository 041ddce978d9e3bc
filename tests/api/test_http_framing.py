"""HTTP framing abuse over a raw socket: each request the parser refuses is answered with the
status HTTP prescribes (400, 431) before the connection ends, never closed silently, and stores
nothing."""
import socket

import pytest

from conftest import Server

RUN_BODY = b'{"project": "framing"}'


def exchange(server: Server, request: bytes) -> bytes:
    """Sends `request`, half-closes, and returns everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        try:
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything
        out = b""
        while True:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            out += data
    return out


def post(headers: bytes, body: bytes = RUN_BODY) -> bytes:
    return b"POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n" + body


FRAMING_CASES = [
    ("content-length and chunked", post(b"Content-Length: 22\r\nTransfer-Encoding: chunked\r\n",
                                        b"16\r\n" + RUN_BODY + b"\r\n0\r\n\r\n"), 400),
    ("two different content-lengths", post(b"Content-Length: 22\r\nContent-Length: 5\r\n"), 400),
    ("content-length not a number", post(b"Content-Length: 2x\r\n"), 400),
    ("huge chunk size", post(b"Transfer-Encoding: chunked\r\n",
                             b"ffffffffffffffffffffff\r\n" + RUN_BODY), 400),
    ("bad chunk size", post(b"Transfer-Encoding: chunked\r\n", b"zz\r\n" + RUN_BODY), 400),
    ("100 KB header", post(b"X-Big: " + b"a" * 100_000 + b"\r\nContent-Length: 22\r\n"), 431),
    ("10,000 headers", post(b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)) +
                            b"Content-Length: 22\r\n"), 431),
    ("bad request line", b"GET\r\n\r\n", 400),
    ("bad header line", b"GET /api/v1/health HTTP/1.1\r\nno colon here\r\n\r\n", 400),
]


# Ids from the names: a test id holding the request bytes would end up in PYTEST_CURRENT_TEST,
# and a 100 KB environment variable makes every subprocess fail with E2BIG.
@pytest.mark.parametrize("name,request_bytes,status", FRAMING_CASES,
                         ids=[c[0] for c in FRAMING_CASES])
def test_framing_abuse_is_answered(server: Server, name: str, request_bytes: bytes,
                                   status: int) -> None:
    reply = exchange(server, request_bytes)
    assert reply.startswith(b"HTTP/1.1 %d " % status), (name, reply[:200])
    assert b"Connection: close" in reply, (name, reply[:300])
    assert server.get("/runs", project="framing").json()["runs"] == [], name
    assert server.get("/health").status == 200  # the server is fine


def test_pipelined_requests_around_big_bodies_are_each_answered_in_order(server: Server) -> None:
    """A connection that has sent a big body reads 64 KiB at a time, so one read takes the end
    of a body and the start of the next request: every request must still be parsed whole and
    answered in order, and every line stored once, in order."""
    run = server.post("/runs", {"project": "pipelined"}).json()["id"]

    def batch(first: int, n: int) -> bytes:
        body = ('{"logs": [' + ",".join('{"message": "line %d %s"}' % (first + i, "x" * 150)
                                        for i in range(n)) + "]}").encode()
        return (b"POST /api/v1/runs/%s/logs/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" %
                (run.encode(), len(body))) + body

    sizes = [1000, 3, 700, 1, 1000, 2]  # big, small, big, ...: bodies end anywhere in a read
    requests, first = [], 0
    for n in sizes:
        requests.append(batch(first, n))
        first += n
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"".join(requests))  # all at once: the server finds them back to back
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while reply.count(b"HTTP/1.1 ") < len(sizes):
            data = s.recv(65536)
            assert data, reply[-300:]
            reply += data
    assert reply.count(b"HTTP/1.1 200 ") == len(sizes), reply[:500]
    logs = server.get(f"/runs/{run}/logs", limit=5000).json()["logs"]
    assert [l["message"].split()[1] for l in logs] == [str(i) for i in range(first)]
