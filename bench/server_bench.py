"""Server benchmarks over real HTTP/WebSocket for `make bench` (issue 2). Prints figures.

1. Ingest through POST /runs/{id}/logs/batch with wrk (1,000-line batches of realistic ~110-byte
   training lines), and the ratio to the one-row-per-line SQLite table that bench_store measured.
2. 1,000 WebSocket viewers of one run receiving 1,000 lines/s (bench_ws): latency and RSS.
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "build" / "wanllmdb"


def training_lines(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    loss = 0.9
    for step in range(1, n + 1):
        r = rng.randrange(1000)
        # Python logging's default asctime layout, as most trainers print.
        prefix = f"2024-11-16 10:{step // 60 % 60:02d}:{step % 60:02d},{rng.randrange(1000):03d} "
        if r < 6:
            out.append(prefix + f"WARNING trainer: gradient overflow at step {step}, loss scale 65536 -> 32768, skipping update")
        elif r < 40:
            out.append(prefix + f"INFO [eval] epoch 1 step {step} val_loss={0.3 + rng.random() * 0.1:.4f} "
                       f"val_acc={0.8 + rng.random() * 0.1:.4f} perplexity={1.2 + rng.random():.3f} samples=10000")
        else:
            loss = loss * 0.9999 + 0.0001 * (0.1 + rng.random() * 0.4)
            out.append(prefix + f"INFO epoch 1 step {step}/50000 loss={loss:.4f} acc={0.85 + rng.random() * 0.1:.4f} "
                       f"lr=1.00e-04 grad_norm={0.5 + rng.random() * 2:.3f} tokens/s={12000 + rng.randrange(2000)}")
    return out


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen([str(BIN), "server", "--listen", "127.0.0.1:0", "--data", str(data),
                             "--no-access-log"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    port = int(proc.stdout.readline().decode().split()[-1])
    return proc, port


def api(port: int, method: str, path: str, body: object = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        raw = r.read()
        return json.loads(raw) if raw else {}


def ingest(rows_per_s: float | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(Path(tmp))
        try:
            run = api(port, "POST", "/runs", {"project": "bench"})["id"]
            lines = training_lines(1000)
            avg = sum(len(x) for x in lines) / len(lines)
            body = json.dumps({"logs": [{"message": m} for m in lines]})
            (Path(tmp) / "body.json").write_text(body)
            lua = Path(tmp) / "post.lua"
            lua.write_text(
                'wrk.method = "POST"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                f'local f = io.open("{tmp}/body.json", "rb")\n'
                'wrk.body = f:read("*a")\nf:close()\n')
            url = f"http://127.0.0.1:{port}/api/v1/runs/{run}/logs/batch"
            print(f"ingest over HTTP: 1,000-line batches, {avg:.0f}-byte lines, wrk 1 thread x 8 connections, 10 s")
            out = subprocess.run(["wrk", "-t1", "-c8", "-d10s", "-s", str(lua), url],
                                 capture_output=True, text=True, check=True).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            lat = re.search(r"Latency\s+(\S+)", out).group(1)
            non2xx = re.search(r"Non-2xx.*?(\d+)", out)
            total = api(port, "GET", f"/runs/{run}/logs/summary")["total"]
            print(f"  {rps * 1000:,.0f} lines/s ({rps:,.0f} batches/s, mean latency {lat}); "
                  f"stored {total:,} lines{'; NON-2XX: ' + non2xx.group(1) if non2xx else ''} (goal >= 1,000,000)")
            if rows_per_s:
                print(f"  ratio to the row-per-line SQLite table ({rows_per_s:,.0f} lines/s): "
                      f"{rps * 1000 / rows_per_s:.1f}x (goal >= 10x)")
        finally:
            proc.terminate()
            proc.wait()


def live(viewers: int, rate: int, seconds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(Path(tmp))
        try:
            run = api(port, "POST", "/runs", {"project": "bench"})["id"]
            print(f"live tail: {viewers} WebSocket viewers, {rate} lines/s for {seconds} s")
            out = subprocess.run([str(ROOT / "build" / "bench_ws"), "127.0.0.1", str(port), run,
                                  str(proc.pid), str(viewers), str(rate), str(seconds)],
                                 capture_output=True, text=True)
            for line in out.stdout.splitlines():
                print("  " + line)
            if out.returncode:
                print(out.stderr)
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    rows = float(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else None
    ingest(rows)
    live(1000, 1000, 10)
