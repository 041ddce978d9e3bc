"""PostgreSQL benchmarks over real HTTP/WebSocket for `make bench` (issue 10). Prints figures.

1. HTTP ingest, 1,000-line batches, the same wrk client as server_bench.py, into SQLite and into
   PostgreSQL in the same run; and the row-per-line table bench_pg loaded into that PostgreSQL.
2. bench_pg: disk per line after merge, search over 1M lines on both stores.
3. Post on node A → frame on node B's WebSocket: p50 and p99 over single-line posts.
"""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "api"))
sys.path.insert(0, str(ROOT / "bench"))

from pg_server import PgServer  # noqa: E402
from server_bench import api, training_lines  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

BIN = ROOT / "build" / "wanllmdb"


def start_server(data: Path, extra: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen([str(BIN), "server", "--listen", "127.0.0.1:0", "--data", str(data),
                             "--no-access-log", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline().decode().split()[-1])


def wrk_ingest(extra: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(Path(tmp), extra)
        try:
            run = api(port, "POST", "/runs", {"project": "bench"})["id"]
            body = json.dumps({"logs": [{"message": m} for m in training_lines(1000)]})
            (Path(tmp) / "body.json").write_text(body)
            lua = Path(tmp) / "post.lua"
            lua.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                           f'local f = io.open("{tmp}/body.json", "rb")\n'
                           'wrk.body = f:read("*a")\nf:close()\n')
            url = f"http://127.0.0.1:{port}/api/v1/runs/{run}/logs/batch"
            out = subprocess.run(["wrk", "-t1", "-c8", "-d10s", "-s", str(lua), url],
                                 capture_output=True, text=True, check=True).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            if re.search(r"Non-2xx", out):
                print("  (some requests failed: " + out.strip().splitlines()[-3] + ")")
            return rps * 1000
        finally:
            proc.terminate()
            proc.wait()


def latency(conninfo: str, posts: int = 300) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "a").mkdir()
        (Path(tmp) / "b").mkdir()
        a, pa = start_server(Path(tmp) / "a", ["--store", conninfo])
        b, pb = start_server(Path(tmp) / "b", ["--store", conninfo])
        try:
            run = api(pa, "POST", "/runs", {"project": "bench"})["id"]
            sent: dict[str, float] = {}
            got: list[float] = []
            with connect(f"ws://127.0.0.1:{pb}/api/v1/runs/{run}/logs/stream", max_size=None) as ws:
                ws.recv(timeout=10)  # the (empty) backlog
                done = threading.Event()

                def reader() -> None:
                    while len(got) < posts:
                        frame = json.loads(ws.recv(timeout=30))
                        now = time.perf_counter()
                        for line in frame.get("logs", []):
                            if line["message"] in sent:
                                got.append(now - sent[line["message"]])
                    done.set()

                t = threading.Thread(target=reader)
                t.start()
                for i in range(posts):
                    msg = f"probe {i}"
                    sent[msg] = time.perf_counter()
                    api(pa, "POST", f"/runs/{run}/logs/batch", {"logs": [{"message": msg}]})
                    time.sleep(0.02)  # 50 posts/s: a live run, not a flood
                t.join(timeout=60)
            got.sort()
            return statistics.median(got) * 1000, got[int(len(got) * 0.99) - 1] * 1000
        finally:
            for p in (a, b):
                p.terminate()
                p.wait()


def main() -> None:
    pg = PgServer.start()
    try:
        lite = wrk_ingest([])
        pgs = wrk_ingest(["--store", pg.new_schema()])
        print("HTTP ingest, 1,000-line batches, wrk 1 thread x 8 connections, 10 s each:")
        print(f"  SQLite {lite:,.0f} lines/s; PostgreSQL {pgs:,.0f} lines/s: "
              f"{pgs / lite * 100:.0f}% of SQLite (goal >= 80%)")
        schema = pg.new_schema()
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([str(ROOT / "build" / "bench_pg"), schema, tmp + "/pg"],
                                 capture_output=True, text=True)
        print(out.stdout.rstrip())
        if out.returncode:
            print(out.stderr)
        rows = re.search(r"row-per-line PostgreSQL table .*?: (\d+) lines/s", out.stdout)
        if rows:
            print(f"  HTTP ingest into PostgreSQL vs the row-per-line table: "
                  f"{pgs / float(rows.group(1)):.1f}x (goal >= 20x)")
        p50, p99 = latency(pg.new_schema())
        print(f"post on node A -> frame on node B's WebSocket: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
              "(goal p50 <= 100, p99 <= 250)")
    finally:
        pg.close()


if __name__ == "__main__":
    main()
