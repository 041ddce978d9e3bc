"""Retention sweep over a large store (issue 12), for `make bench`. Prints figures; asserts none.

A SQLite server is loaded with RETENTION_BENCH_LINES lines (default 10,000,000) in 10 finished
runs of project `bulk`, then left to finish its background merges. Ingest into a run of another
project is measured for 10 s with wrk (the baseline). Then `bulk` gets max_lines_per_run = 10%
of each run, and the same ingest runs while the sweep removes 90% of the store: lines/s removed,
ingest lines/s during the sweep against the baseline (goal >= 80%), and the store file before
and after incremental vacuum gives the space back.

On a 2-core machine the load alone takes a while: RETENTION_BENCH_LINES=2000000 is a quick run.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_bench import BIN, api, training_lines  # noqa: E402

LINES = int(os.environ.get("RETENTION_BENCH_LINES", "10000000"))
RUNS = 10
BATCH = 1000


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, timeout: float = 900) -> None:
    """Until the server uses under 5% of a core for 2 s (background merges done)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        a = cpu_seconds(pid)
        time.sleep(1)
        quiet = quiet + 1 if cpu_seconds(pid) - a < 0.05 else 0


def store_bytes(data: Path) -> int:
    return sum(p.stat().st_size for p in (data / "logs.db", data / "logs.db-wal") if p.exists())


def load(port: int, runs: list[str], body: bytes, per_run: int) -> float:
    """Posts `per_run` lines into each run from 4 threads; returns seconds taken."""
    todo = [(rid, n) for rid in runs for n in range(per_run // BATCH)]
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not todo:
                    break
                rid, _ = todo.pop()
            conn.request("POST", f"/api/v1/runs/{rid}/logs/batch", body=body,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"ingest answered {r.status}")
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0


def fill_finished_runs(port: int, tmp: Path, lines_total: int) -> tuple[list[str], int, float, Path]:
    """RUNS finished runs of project "bulk" holding about lines_total realistic lines; returns
    the run ids, the lines stored, the seconds loading took, and a wrk script posting one more
    BATCH-line batch (to the URL the caller gives wrk)."""
    lines = training_lines(BATCH)
    body = json.dumps({"logs": [{"message": m} for m in lines]})
    (tmp / "body.json").write_text(body)
    lua = tmp / "post.lua"
    lua.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                   f'local f = io.open("{tmp}/body.json", "rb")\nwrk.body = f:read("*a")\n'
                   'f:close()\n')
    per_run = max(BATCH, lines_total // RUNS // BATCH * BATCH)
    runs = [api(port, "POST", "/runs", {"project": "bulk"})["id"] for _ in range(RUNS)]
    took = load(port, runs, body.encode(), per_run)
    for rid in runs:
        api(port, "PATCH", f"/runs/{rid}", {"state": "finished"})
    return runs, per_run * RUNS, took, lua


def wrk(url: str, lua: Path, seconds: int) -> subprocess.Popen[str]:
    return subprocess.Popen(["wrk", "-t1", "-c4", f"-d{seconds}s", "-s", str(lua), url],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        proc = subprocess.Popen([str(BIN), "server", "--listen", "127.0.0.1:0", "--data", str(data),
                                 "--no-access-log", "--retention-interval", "0.5"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stderr is not None
        port = int(proc.stdout.readline().split()[-1])
        log: list[str] = []
        done = threading.Event()

        def read_log() -> None:
            for text in proc.stderr:
                log.append(text)
                if text.startswith("retention: sweep done"):
                    done.set()

        threading.Thread(target=read_log, daemon=True).start()
        try:
            runs, loaded, took, lua = fill_finished_runs(port, Path(tmp), LINES)
            per_run = loaded // RUNS
            print(f"retention sweep over {loaded:,} lines in {RUNS} runs "
                  f"(RETENTION_BENCH_LINES={LINES:,}; loaded in {took:.0f} s, "
                  f"{loaded / took:,.0f} lines/s), SQLite")
            wait_idle(proc.pid)
            live = api(port, "POST", "/runs", {"project": "live"})["id"]
            url = f"http://127.0.0.1:{port}/api/v1/runs/{live}/logs/batch"

            def live_total() -> int:
                return api(port, "GET", f"/runs/{live}/logs/summary")["total"]

            a, t0 = live_total(), time.monotonic()
            base = wrk(url, lua, 10)
            base.communicate()
            baseline = (live_total() - a) / (time.monotonic() - t0)
            print(f"  ingest without a sweep: {baseline:,.0f} lines/s (wrk 1 thread x 4 connections)")
            wait_idle(proc.pid)
            size_before = store_bytes(data)

            limit = per_run // 10
            during = wrk(url, lua, 3600)
            time.sleep(1)  # wrk connected and running
            a, t0 = live_total(), time.monotonic()
            api(port, "PUT", "/projects/bulk/retention", {"max_lines_per_run": limit})
            while True:
                totals = [api(port, "GET", f"/runs/{rid}/logs/summary")["total"] for rid in runs]
                if all(t <= limit for t in totals):
                    break
                time.sleep(0.2)
            t1 = time.monotonic()
            # Then the freed pages go back to the file system in 1 MiB steps; the sweep logs
            # "retention: sweep done" when both are over. Ingest is measured over all of it.
            done.wait(timeout=900)
            t2 = time.monotonic()
            b = live_total()
            during.send_signal(signal.SIGINT)
            during.communicate()
            removed = loaded - sum(totals)
            rate = (b - a) / (t2 - t0)
            print(f"  sweep: removed {removed:,} lines in {t1 - t0:.1f} s = {removed / (t1 - t0):,.0f} "
                  f"lines/s removed (at most 64 chunks per transaction); incremental vacuum done "
                  f"{t2 - t1:.1f} s later")
            print(f"  ingest during the sweep and vacuum ({t2 - t0:.1f} s): {rate:,.0f} lines/s = "
                  f"{100 * rate / baseline:.0f}% of without (goal >= 80%)")
            size_after = store_bytes(data)
            print(f"  store file (logs.db + WAL): {size_before / 2**20:,.0f} MiB before, "
                  f"{size_after / 2**20:,.0f} MiB after the sweep and incremental vacuum "
                  f"(the live run added {(b - a) * 110 / 2**20:,.0f} MiB raw meanwhile)")
            for text in log:
                if text.startswith("retention: sweep done"):
                    print("  server log: " + text.strip())
            wait_idle(proc.pid)
            a, t3 = live_total(), time.monotonic()
            wrk(url, lua, 10).communicate()
            baseline2 = (live_total() - a) / (time.monotonic() - t3)
            print(f"  ingest without a sweep, again after it: {baseline2:,.0f} lines/s (the two "
                  f"baselines differ by what else runs on the machine)")
        finally:
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
