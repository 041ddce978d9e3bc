"""Issue 14 figures for `make bench`: a needle search over one 10M-line run with text filters
on and off, the disk the filters add, and ingest throughput with and without building them.
Lines are realistic training lines (bench/server_bench.py), 0.01% of them carry the needle.
Then a common substring (`acc=0.94`, ~10% of the lines) on a 1M-line run: the first page
(newest 500 matches, as the viewer opens) and the full count (`logs/locate`)."""
from __future__ import annotations

import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from server_bench import BIN, training_lines

LINES = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
COMMON_LINES = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
BATCH = 10_000
COMMON = "acc=0.94"


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


def varint(b: bytes, i: int) -> tuple[int, int]:
    r = shift = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << shift
        shift += 7
        if not x & 0x80:
            return r, i


def store_stats(db: Path) -> tuple[int, int, int, int, float]:
    """Lines, payload bytes, chunk-filter bytes, block-filter bytes (layout 3, inside the
    payloads: doc/chunk_format.md) and the share of chunks the merger has packed, read from the
    stopped server's SQLite file: the file size alone depends on how far the merger got."""
    con = sqlite3.connect(db)
    lines, payload, packed = con.execute(
        "SELECT sum(n_lines), sum(length(payload)), avg(packed) FROM log_chunks").fetchone()
    chunk_filters = con.execute("SELECT coalesce(sum(length(filter)), 0) FROM chunk_filters").fetchone()[0]
    blocks = 0
    for (head,) in con.execute("SELECT substr(payload, 1, 4096) FROM log_chunks"):
        if head[0] != 3 or not head[1] & 1:
            continue
        _, i = varint(head, 2)
        nw, i = varint(head, i)
        for _ in range(nw):
            n, i = varint(head, i)
            i += n
        nb, i = varint(head, i)
        for _ in range(nb):
            _, i = varint(head, i)
            _, i = varint(head, i)
            n, i = varint(head, i)
            blocks += n
            i += n
    con.close()
    return lines, payload, chunk_filters, blocks, packed


def timed(conn: http.client.HTTPConnection, path: str, reps: int = 7) -> tuple[list[float], dict]:
    times = []
    got: dict = {}
    for _ in range(reps):
        t0 = time.perf_counter()
        got = call(conn, "GET", path)
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times), got


def common(conn: http.client.HTTPConnection, bodies: list[bytes], data: str) -> tuple:
    """The common substring on a fresh 1M-line run, once its merges settled: the first page,
    the first count (`locate`: nothing kept for the run and filter yet, every chunk decoded),
    then locates of other lines, as the viewer's jumps in the filtered view make (the counts
    the server keeps per chunk range, server/match_locator.h)."""
    rid = call(conn, "POST", "/runs", json.dumps({"project": "bench-common"}).encode())["id"]
    for b in range(COMMON_LINES // BATCH):
        call(conn, "POST", f"/runs/{rid}/logs/batch", bodies[b % 4])
    settle(data)
    q = "search=" + COMMON
    page, got = timed(conn, f"/runs/{rid}/logs?{q}&limit=500&order=desc")
    assert len(got["logs"]) == 500
    first, loc = timed(conn, f"/runs/{rid}/logs/locate?{q}&line=1", reps=1)
    jumps = []
    for k in range(1, 8):
        t, again = timed(conn, f"/runs/{rid}/logs/locate?{q}&line={k * COMMON_LINES // 8}", reps=1)
        assert again["total"] == loc["total"]
        jumps += t
    return page, (first[0], sorted(jumps)), loc["total"]


def settle(data: str, limit_s: int = 1800) -> float:
    """Waits until the background merger has recompressed every chunk ingest wrote (it builds
    their text filters then: doc/chunk_format.md), read from the SQLite file beside the running
    server, so the searches measure the store a finished ingest leaves; returns the wait."""
    t0 = time.perf_counter()
    con = sqlite3.connect(f"file:{next(Path(data).glob('*.db'))}?mode=ro", uri=True, timeout=60)
    try:
        while time.perf_counter() - t0 < limit_s:
            if con.execute("SELECT count(*) FROM log_chunks WHERE packed = 0").fetchone()[0] == 0:
                break
            time.sleep(0.5)
    finally:
        con.close()
    return time.perf_counter() - t0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one(extra: list[str]) -> tuple:
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
            t0, cpu0 = time.perf_counter(), cpu_seconds(proc.pid)
            for b in range(LINES // BATCH):
                call(conn, "POST", f"/runs/{rid}/logs/batch", bodies[b % 4])
            rate = LINES / (time.perf_counter() - t0)
            settled = settle(d)  # searches measure the store a finished ingest leaves
            # The server's CPU for ingest and every merge after it, per line.
            cpu_us = (cpu_seconds(proc.pid) - cpu0) / LINES * 1e6
            times = []
            for _ in range(7):
                t0 = time.perf_counter()
                got = call(conn, "GET", f"/runs/{rid}/logs?search=needle-xyzzy&limit=10000")
                times.append((time.perf_counter() - t0) * 1000)
            found = len(got["logs"])
            page, count, total = common(conn, bodies, d)
        finally:
            proc.terminate()
            proc.wait()
        size = sum(f.stat().st_size for f in Path(d).iterdir() if f.is_file())
        stats = store_stats(next(Path(d).glob("*.db")))
        return rate, sorted(times), found, size, page, count, total, stats, settled, cpu_us


def ingest_rate(extra: list[str], lines: int) -> float:
    """Lines/s of one sequential client posting BATCH-line batches into a fresh server."""
    with tempfile.TemporaryDirectory() as d:
        proc, port = start(d, extra)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            rid = call(conn, "POST", "/runs", json.dumps({"project": "bench"}).encode())["id"]
            body = json.dumps({"logs": [{"message": m} for m in training_lines(BATCH)]}).encode()
            t0 = time.perf_counter()
            for _ in range(lines // BATCH):
                call(conn, "POST", f"/runs/{rid}/logs/batch", body)
            return lines / (time.perf_counter() - t0)
        finally:
            proc.terminate()
            proc.wait()


def ingest_ratio(rounds: int = 5, lines: int = 1_000_000) -> tuple[float, float]:
    """Median ingest rates with filters and without, in alternating rounds: on a shared machine
    one long run of each measures mostly what else ran at the time."""
    on, off = [], []
    for _ in range(rounds):
        on.append(ingest_rate([], lines))
        off.append(ingest_rate(["--no-text-filters"], lines))
    return sorted(on)[rounds // 2], sorted(off)[rounds // 2]


if __name__ == "__main__":
    on = one([])
    off = one(["--no-text-filters"])
    rate_on, rate_off = ingest_ratio()
    print(f"needle search (0.01% of lines), one {LINES:,}-line run, SQLite:")
    print(f"  filters on: median {on[1][3]:.0f} ms (best {on[1][0]:.0f}); off: median "
          f"{off[1][3]:.0f} ms (best {off[1][0]:.0f}); {on[2]:,} matches "
          f"(goal <= 50 ms)")
    print(f"  ingest with filters {rate_on:,.0f} lines/s, without {rate_off:,.0f}: "
          f"{rate_on / rate_off:.0%} (goal >= 90%; medians of 5 alternating 1M-line rounds; "
          f"the {LINES:,}-line ingests above: {on[0]:,.0f} and {off[0]:,.0f})")
    print(f"  merges settled {on[8]:.0f} s (filters on) and {off[8]:.0f} s (off) after the "
          f"{LINES:,}-line ingests; the merger builds the filters")
    print(f"  server CPU for ingest and merges: {on[9]:.2f} us a line with filters, {off[9]:.2f} "
          f"without (+{on[9] / off[9] - 1:.0%})")
    print(f"  disk added by filters: {(on[3] - off[3]) / (LINES + COMMON_LINES):.2f} bytes a line (goal <= 3); "
          f"store {on[3] / (LINES + COMMON_LINES):.1f} bytes a line with filters, "
          f"{off[3] / (LINES + COMMON_LINES):.1f} without")
    for name, r in (("on", on), ("off", off)):
        lines, payload, cf, bf, packed = r[7]
        print(f"  filters {name}: payloads {payload / lines:.2f} bytes a line ({packed:.0%} of chunks "
              f"merged), chunk filters {cf / lines:.2f}, block filters (in the payloads) "
              f"{bf / lines:.2f}; data files {r[3] / lines:.2f} bytes a line")
    for name, r in (("on", on), ("off", off)):
        first, jumps = r[5]
        print(f"  common substring ({r[6]:,} of {COMMON_LINES:,} lines), filters {name}: first page "
              f"(newest 500) median {r[4][3]:.0f} ms (goal <= 30), full count {first:.0f} ms "
              f"(goal <= 100), then locates of other lines (kept counts) median "
              f"{jumps[3]:.0f} ms")
