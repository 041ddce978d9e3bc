"""Issue 14 figures for `make bench`: a needle search over one 10M-line run with text filters
on and off, the disk the filters add, and ingest throughput with and without building them.
Lines are realistic training lines (bench/server_bench.py), 0.01% of them carry the needle."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from server_bench import BIN, training_lines

LINES = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
BATCH = 10_000


def start(data: str, extra: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    p = subprocess.Popen([str(BIN), "server", "--listen", "127.0.0.1:0", "--data", data,
                          "--no-access-log", *extra], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    assert p.stdout is not None
    return p, int(p.stdout.readline().decode().split()[-1])


def call(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> dict:
    conn.request(method, "/api/v1" + path, body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    raw = r.read()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {raw[:200]!r}")
    return json.loads(raw) if raw else {}


def one(extra: list[str]) -> tuple[float, list[float], int, int]:
    with tempfile.TemporaryDirectory() as d:
        proc, port = start(d, extra)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            rid = call(conn, "POST", "/runs", json.dumps({"project": "bench"}).encode())["id"]
            base = training_lines(BATCH)
            bodies = []
            for k in range(4):  # a few distinct bodies; the needle at different places
                lines = list(base)
                lines[(k * 3331) % BATCH] += " needle-xyzzy"
                bodies.append(json.dumps({"logs": [{"message": m} for m in lines]}).encode())
            t0 = time.perf_counter()
            for b in range(LINES // BATCH):
                call(conn, "POST", f"/runs/{rid}/logs/batch", bodies[b % 4])
            rate = LINES / (time.perf_counter() - t0)
            times = []
            for _ in range(7):
                t0 = time.perf_counter()
                got = call(conn, "GET", f"/runs/{rid}/logs?search=needle-xyzzy&limit=10000")
                times.append((time.perf_counter() - t0) * 1000)
            found = len(got["logs"])
        finally:
            proc.terminate()
            proc.wait()
        size = sum(f.stat().st_size for f in Path(d).iterdir() if f.is_file())
        return rate, sorted(times), found, size


if __name__ == "__main__":
    on = one([])
    off = one(["--no-text-filters"])
    print(f"needle search (0.01% of lines), one {LINES:,}-line run, SQLite:")
    print(f"  filters on: median {on[1][3]:.0f} ms (best {on[1][0]:.0f}); off: median "
          f"{off[1][3]:.0f} ms (best {off[1][0]:.0f}); {on[2]:,} matches "
          f"(goal <= 50 ms)")
    print(f"  ingest with filters {on[0]:,.0f} lines/s, without {off[0]:,.0f}: "
          f"{on[0] / off[0]:.0%} (goal >= 90%)")
    print(f"  disk added by filters: {(on[3] - off[3]) / LINES:.2f} bytes a line (goal <= 3)")
