"""`wanllmdb admin backup` of a large store (issue 12), for `make bench`. Prints figures; asserts
none.

A SQLite server is loaded with BACKUP_BENCH_LINES lines (default 10,000,000) in 10 finished runs
(the loading of bench/retention_bench.py), then left to finish its background merges. The
backup is timed once on the idle server; then ingest into another run is measured with wrk for
10 s (the baseline: lines/s and the slowest request), and again while backups run back to back
for 10 s: their seconds, ingest lines/s during them against the baseline, and the slowest request
(VACUUM INTO is one read transaction: WAL readers never block the writer, so ingest goes on;
what it costs is the disk and CPU the copy takes).

On a 2-core machine the load alone takes a while: BACKUP_BENCH_LINES=2000000 is a quick run.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from retention_bench import RUNS, fill_finished_runs, store_bytes, wait_idle, wrk  # noqa: E402
from server_bench import BIN, api  # noqa: E402

LINES = int(os.environ.get("BACKUP_BENCH_LINES", "10000000"))
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def max_latency_ms(wrk_output: str) -> float:
    """The max column of wrk's "Latency avg stdev max +/-stdev" line, in milliseconds."""
    m = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)\b", wrk_output)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def backup(data: Path, dest: Path) -> float:
    t0 = time.monotonic()
    subprocess.run([str(BIN), "admin", "backup", str(dest), "--data", str(data)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        proc = subprocess.Popen([str(BIN), "server", "--listen", "127.0.0.1:0", "--data", str(data),
                                 "--no-access-log"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[-1])
        try:
            runs, loaded, took, lua = fill_finished_runs(port, Path(tmp), LINES)
            wait_idle(proc.pid)
            size = store_bytes(data)
            print(f"backup of a store of {loaded:,} lines in {RUNS} runs "
                  f"(BACKUP_BENCH_LINES={LINES:,}; loaded in {took:.0f} s; logs.db + WAL "
                  f"{size / 2**20:,.0f} MiB), SQLite, VACUUM INTO")
            idle_s = backup(data, Path(tmp) / "idle.db")
            copy = (Path(tmp) / "idle.db").stat().st_size
            print(f"  backup with no ingest: {idle_s:.1f} s ({copy / 2**20:,.0f} MiB written, "
                  f"{copy / 2**20 / idle_s:,.0f} MiB/s)")
            (Path(tmp) / "idle.db").unlink()

            live = api(port, "POST", "/runs", {"project": "live"})["id"]
            url = f"http://127.0.0.1:{port}/api/v1/runs/{live}/logs/batch"

            def live_total() -> int:
                return api(port, "GET", f"/runs/{live}/logs/summary")["total"]

            wait_idle(proc.pid)
            a, t0 = live_total(), time.monotonic()
            out, _ = wrk(url, lua, 10).communicate()
            baseline = (live_total() - a) / (time.monotonic() - t0)
            base_max = max_latency_ms(out)
            print(f"  ingest without a backup: {baseline:,.0f} lines/s, slowest request "
                  f"{base_max:,.0f} ms (wrk 1 thread x 4 connections, 1,000-line batches)")
            wait_idle(proc.pid)

            # One backup takes seconds: back to back for at least 10 s, so the ingest figure
            # is over a window as long as the baseline's.
            during = wrk(url, lua, 3600)
            time.sleep(1)  # wrk connected and running
            a, t0 = live_total(), time.monotonic()
            takes: list[float] = []
            while not takes or time.monotonic() - t0 < 10:
                dest = Path(tmp) / f"busy{len(takes)}.db"
                takes.append(backup(data, dest))
                dest.unlink()
            t1 = time.monotonic()
            b = live_total()
            during.send_signal(signal.SIGINT)
            out, _ = during.communicate()
            rate = (b - a) / (t1 - t0)
            print(f"  backup while ingesting: {sum(takes) / len(takes):.1f} s on average, "
                  f"{max(takes):.1f} s at most ({len(takes)} backups back to back, {t1 - t0:.0f} s)")
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            print(f"  ingest during them: {rate:,.0f} lines/s = {100 * rate / baseline:.0f}% of "
                  f"without; slowest request {max_latency_ms(out):,.0f} ms; "
                  + (f"{errors.group(1)} requests not answered 2xx" if errors
                     else "every request answered 2xx"))
            print("  (each copy is the store as of one commit: lines ingested during a backup are "
                  "in the next one)")
        finally:
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
