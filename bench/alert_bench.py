"""Issue 13 figures for `make bench`: a run's first problem → its webhook delivered. A local
receiver (http.server) notes when each run's POST arrives; the clock starts when the batch that
holds the run's first CUDA OOM is sent. SQLite, 200 runs one after another, each with some
ordinary lines before the problem. Then: a stall detected, with the server's default sweep
interval (15 s) and a project stall time of 10 s — how long after N the `stalled` problem shows."""
from __future__ import annotations

import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from problem_bench import call, start
from server_bench import BIN

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
arrived: dict[str, float] = {}
lock = threading.Lock()
done = threading.Condition(lock)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        now = time.perf_counter()
        with done:
            arrived.setdefault(body["run"]["id"], now)
            done.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    with tempfile.TemporaryDirectory() as d:
        proc, port = start(d, [])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            call(conn, "POST", "/projects", json.dumps({"name": "alerts"}).encode())
            call(conn, "POST", "/projects/alerts/webhooks",
                 json.dumps({"url": url, "problem_kinds": ["cuda_oom"]}).encode())
            lines = [{"message": f"step {i} loss={1 / (i + 1):.4f}"} for i in range(500)]
            lines.append({"message": "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB."})
            body = json.dumps({"logs": lines}).encode()
            latencies = []
            for _ in range(RUNS):
                rid = call(conn, "POST", "/runs", json.dumps({"project": "alerts"}).encode())["id"]
                t0 = time.perf_counter()
                call(conn, "POST", f"/runs/{rid}/logs/batch", body)
                with done:
                    ok = done.wait_for(lambda: rid in arrived, timeout=30)
                latencies.append((arrived[rid] - t0) if ok else float("inf"))
        finally:
            proc.terminate()
            proc.wait()
            receiver.shutdown()
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"first problem -> webhook delivered, {RUNS} runs, SQLite: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
          f"(goal p99 <= 2000 ms)")


def stall_figure(stall_s: int = 10) -> None:
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen([str(BIN), "server", "--listen", "127.0.0.1:0", "--data", d,
                                 "--no-access-log"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        port = int(proc.stdout.readline().decode().split()[-1])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            call(conn, "POST", "/projects", json.dumps({"name": "stall"}).encode())
            call(conn, "PUT", "/projects/stall/problem-settings",
                 json.dumps({"stall_after_seconds": stall_s}).encode())
            rid = call(conn, "POST", "/runs", json.dumps({"project": "stall"}).encode())["id"]
            call(conn, "POST", f"/runs/{rid}/logs/batch", json.dumps({"logs": [{"message": "step 1"}]}).encode())
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < stall_s + 120:
                got = call(conn, "GET", f"/runs/{rid}/problems")["problems"]
                if any(p["kind"] == "stalled" for p in got):
                    late = time.perf_counter() - t0 - stall_s
                    print(f"stall detected {late:.1f} s after the project's stall time of {stall_s} s "
                          f"(default sweep every 15 s; goal within 60 s)")
                    return
                time.sleep(0.2)
            print("stall not detected within 120 s of N")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
    stall_figure()
