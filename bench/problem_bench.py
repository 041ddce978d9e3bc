"""Issue 13 figure for `make bench`: ingest throughput with problem detection on and off
(`server --no-problem-detection`), same lines, on a mix with 20% JSON lines and a traceback, an
NCCL timeout and a NaN loss every few thousand lines. SQLite, one run, 10,000-line batches over
a few connections; each setting is run several times alternately and its best taken, so a noisy
neighbour does not decide the figure. Field parsing is on in both settings: the figure is
detection's cost on its own (structured_bench.py measures both together, the issue's figure)."""
from __future__ import annotations

import http.client
import json
import random
import sys
import tempfile
import threading
import time

from search_bench import call, start
from server_bench import training_lines

LINES = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
BATCH = 10_000
CONNECTIONS = 2

TRACEBACK = ["Traceback (most recent call last):",
             '  File "/workspace/train.py", line 88, in <module>',
             "    main()",
             "RuntimeError: CUDA error: an illegal memory access was encountered"]


def mixed_lines(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = training_lines(n, seed)
    for i in range(n):
        if rng.random() < 0.2:
            out[i] = json.dumps({"ts": "2024-11-16T10:00:00Z", "level": "info", "msg": "train step",
                                 "step": i, "loss": round(rng.random(), 4), "lr": 1e-4,
                                 "rank": rng.randrange(8)})
    for at in range(1000, n - 10, 3000):
        out[at:at + 4] = TRACEBACK
        out[at + 5] = ("[rank3]:[E1023 12:34:56.789 ProcessGroupNCCL.cpp:616] [Rank 3] Watchdog caught "
                       "collective operation timeout: WorkNCCL(SeqNum=5, OpType=ALLREDUCE) ran for "
                       "600008 milliseconds before timing out.")
        out[at + 6] = f"step {at} loss=nan grad_norm=inf"
    return out


def one(extra: list[str], bodies: list[bytes]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as d:
        proc, port = start(d, ["--stall-sweep-interval", "0", *extra])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            rid = call(conn, "POST", "/runs", json.dumps({"project": "bench"}).encode())["id"]
            batches = LINES // BATCH

            def send(k: int) -> None:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                for b in range(k, batches, CONNECTIONS):
                    call(c, "POST", f"/runs/{rid}/logs/batch", bodies[b % len(bodies)])

            t0 = time.perf_counter()
            threads = [threading.Thread(target=send, args=(k,)) for k in range(CONNECTIONS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rate = batches * BATCH / (time.perf_counter() - t0)
            found = len(call(conn, "GET", f"/runs/{rid}/problems")["problems"])
        finally:
            proc.terminate()
            proc.wait()
        return rate, found


if __name__ == "__main__":
    bodies = []
    for k in range(4):
        writer = f"rank-{k}"
        bodies.append(json.dumps({"writer": writer,
                                  "logs": [{"message": m} for m in mixed_lines(BATCH, k + 1)]}).encode())
    on_rates, off_rates = [], []
    found_on = found_off = 0
    for _ in range(ROUNDS):
        r, found_on = one([], bodies)
        on_rates.append(r)
        r, found_off = one(["--no-problem-detection"], bodies)
        off_rates.append(r)
    on, off = max(on_rates), max(off_rates)
    print(f"ingest, {LINES:,} lines (20% JSON, a traceback + NCCL timeout + NaN loss every 3,000 "
          f"lines), SQLite, best of {ROUNDS}:")
    print(f"  problem detection on {on:,.0f} lines/s ({found_on} problem events), off {off:,.0f} "
          f"lines/s ({found_off}): {on / off:.0%} (goal >= 90%)")
