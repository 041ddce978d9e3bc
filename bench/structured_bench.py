"""Issue 13 figures for `make bench`: ingest throughput with field parsing on and off on a mix
with 20% JSON lines, and the field filter `field.loss>1.5` over one 1M-line run (its first page,
and a count over the whole run, which reads every line)."""
from __future__ import annotations

import http.client
import json
import random
import sys
import tempfile
import time
import urllib.parse

from search_bench import call, start
from server_bench import training_lines

LINES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
BATCH = 10_000
# The comparison: ingest with field parsing and problem detection on, against both off.
OFF = ["--no-field-parsing", "--no-problem-detection"]


def bodies() -> list[bytes]:
    rng = random.Random(13)
    base = training_lines(BATCH)
    out = []
    for k in range(4):
        lines = list(base)
        for i in range(0, BATCH, 5):  # every fifth line is a JSON record
            lines[(i + k) % BATCH] = json.dumps({"msg": "train", "step": k * BATCH + i,
                                                 "loss": round(rng.uniform(0, 3), 4), "lr": 1e-4,
                                                 "rank": i % 8})
        out.append(json.dumps({"logs": [{"message": m} for m in lines]}).encode())
    return out


def ingest(extra: list[str], measure_filter: bool) -> tuple[float, list[float], list[float], int]:
    payloads = bodies()
    with tempfile.TemporaryDirectory() as d:
        proc, port = start(d, extra)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            rid = call(conn, "POST", "/runs", json.dumps({"project": "bench"}).encode())["id"]
            t0 = time.perf_counter()
            for b in range(LINES // BATCH):
                call(conn, "POST", f"/runs/{rid}/logs/batch", payloads[b % 4])
            rate = LINES / (time.perf_counter() - t0)
            page: list[float] = []
            full: list[float] = []
            total = 0
            if measure_filter:
                q = urllib.parse.quote("loss>1.5")
                for _ in range(7):
                    t0 = time.perf_counter()
                    call(conn, "GET", f"/runs/{rid}/logs?field={q}&limit=500")
                    page.append((time.perf_counter() - t0) * 1000)
                    t0 = time.perf_counter()
                    total = call(conn, "GET", f"/runs/{rid}/logs/locate?line=1&field={q}")["total"]
                    full.append((time.perf_counter() - t0) * 1000)
        finally:
            proc.terminate()
            proc.wait()
        return rate, sorted(page), sorted(full), total


if __name__ == "__main__":
    # Alternate which goes first: the machine warms up (and CI neighbours come and go).
    on_a = ingest([], True)
    off_a = ingest(OFF, False)
    off_b = ingest(OFF, False)
    on_b = ingest([], False)
    on = max(on_a[0], on_b[0])
    off = max(off_a[0], off_b[0])
    print(f"structured lines, one {LINES:,}-line run with 20% JSON lines, SQLite:")
    print(f"  ingest with field parsing and problem detection {on:,.0f} lines/s, without both "
          f"{off:,.0f}: {on / off:.0%} (goal >= 90%)")
    print(f"  field.loss>1.5, first page of 500: median {on_a[1][3]:.0f} ms (best {on_a[1][0]:.0f})")
    print(f"  field.loss>1.5 counted over the whole run ({on_a[3]:,} matches): median "
          f"{on_a[2][3]:.0f} ms (best {on_a[2][0]:.0f}) (goal <= 150 ms)")
