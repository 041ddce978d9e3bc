"""Issue 13 figure for `make bench`: a run's first problem → its webhook delivered. A local
receiver (http.server) notes when each run's POST arrives; the clock starts when the batch that
holds the run's first CUDA OOM is sent. SQLite, 200 runs one after another, each with some
ordinary lines before the problem."""
from __future__ import annotations

import http.client
import json
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from problem_bench import call, start

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


if __name__ == "__main__":
    main()
