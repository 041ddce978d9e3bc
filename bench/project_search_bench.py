"""Issue 14 figures for `make bench`: needle search across a whole project (default 1,000 runs x
100,000 realistic training lines = 100M lines; `project_search_bench.py RUNS LINES_PER_RUN`), the
time to generate that store, and ingest latency (p99 of small batches) while four project-wide
full-scan searches run, against the same with the server idle.

The needle is in one line of every 200th run. The full-scan searches use a regex without a
literal (text filters cannot skip any chunk), so each reads every line of the project."""
from __future__ import annotations

import http.client
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse

from search_bench import call, settle, start
from server_bench import training_lines

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
PER_RUN = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
BATCH = 10_000
NEEDLE = "needle-xyzzy"


def generate(port: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    bodies = []
    for k in range(8):
        lines = training_lines(BATCH, seed=k + 1)
        bodies.append(json.dumps({"logs": [{"message": m} for m in lines]}).encode())
    needle = list(training_lines(BATCH, seed=99))
    needle[4321] += " " + NEEDLE
    needle_body = json.dumps({"logs": [{"message": m} for m in needle]}).encode()
    t0 = time.perf_counter()
    for r in range(RUNS):
        rid = call(conn, "POST", "/runs", json.dumps({"project": "bench", "name": f"run-{r}"}).encode())["id"]
        for b in range(PER_RUN // BATCH):
            body = needle_body if (r % 200 == 0 and b == 1) else bodies[(r + b) % 8]
            call(conn, "POST", f"/runs/{rid}/logs/batch", body)
    return time.perf_counter() - t0


def project_search(port: int, query: str, conns: list | None = None) -> tuple[float, list[dict]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    if conns is not None:
        conns.append(conn)
    t0 = time.perf_counter()
    conn.request("GET", f"/api/v1/projects/bench/search?{query}&limit=200")
    r = conn.getresponse()
    records = [json.loads(line) for line in r.read().decode().splitlines()]
    elapsed = time.perf_counter() - t0
    assert r.status == 200 and records[-1]["type"] == "end", records[-1:]
    return elapsed * 1000, records


def ingest_latencies(port: int, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    rid = call(conn, "POST", "/runs", json.dumps({"project": "ingest-probe"}).encode())["id"]
    body = json.dumps({"logs": [{"message": m} for m in training_lines(100, seed=7)]}).encode()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call(conn, "POST", f"/runs/{rid}/logs/batch", body)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p99(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.99) - 1)]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        proc, port = start(d, [])
        try:
            gen_s = generate(port)
            total = RUNS * PER_RUN
            print(f"project of {RUNS:,} runs x {PER_RUN:,} lines ({total:,} lines) generated in "
                  f"{gen_s:.0f} s ({total / gen_s:,.0f} lines/s)")
            print(f"  merges settled {settle(d):.0f} s after the ingest")
            times = []
            for _ in range(5):
                ms, records = project_search(port, "q=" + NEEDLE + "&preview=1")
                times.append(ms)
            matched = sum(1 for x in records if x["type"] == "run")
            print(f"  needle search across the project: median {statistics.median(times):.0f} ms "
                  f"(best {min(times):.0f}), {matched} runs matched (goal <= 300 ms to the "
                  f"complete result)")
            idle = ingest_latencies(port, 300)
            stop = threading.Event()
            scans = [0]

            conns: list = []

            def scan_loop() -> None:
                while not stop.is_set():
                    try:
                        project_search(port, "regex=" + urllib.parse.quote(r"\d{9}") + "&preview=0", conns)
                    except (OSError, http.client.HTTPException, ValueError, AssertionError):
                        return  # cut off below: the server cancels the search
                    scans[0] += 1

            threads = [threading.Thread(target=scan_loop, daemon=True) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(1.0)  # the searches are under way (a benchmark, not a test)
            busy = ingest_latencies(port, 300)
            stop.set()
            # A full scan of a big project takes minutes now that each run has its own query
            # budget: hang up instead of waiting (the server sees the client gone and stops).
            for c in conns:
                if c.sock is not None:
                    c.sock.shutdown(socket.SHUT_RDWR)
            for t in threads:
                t.join()
            print(f"  ingest p99 (100-line batches): idle {p99(idle):.1f} ms, while 4 project-wide "
                  f"full-scan searches run {p99(busy):.1f} ms = {p99(busy) / p99(idle):.1f}x "
                  f"(goal <= 2x)")
        finally:
            proc.terminate()
            proc.wait()
