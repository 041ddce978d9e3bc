"""`wanllmdb run -- CMD` end to end: real server, real wrapper, real children (issue 5)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from conftest import BINARY, Server, messages, messages_soon, run_cmd, wait_until

PY = sys.executable


def child_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])


def run_to_end(server: Any, tmp_path: Path, code: str, timeout: float = 60) -> tuple[str, int, bytes, bytes]:
    run_id, proc = run_cmd(server.base, [PY, "-c", code], tmp_path)
    out, err = proc.communicate(timeout=timeout)
    return run_id, proc.returncode, out, err


def test_exit_zero_finished_and_output_teed(server: Server, tmp_path: Path) -> None:
    run_id, rc, out, err = run_to_end(server, tmp_path, "import sys\nprint('to out')\nprint('to err', file=sys.stderr)")
    assert rc == 0
    assert out == b"to out\n"  # the terminal copy is byte for byte (no \r\n from the pty)
    assert b"to err\n" in err
    run = server.get(f"/runs/{run_id}").json()
    assert (run["state"], run["exit_code"]) == ("finished", 0)
    lines = server.all_lines(run_id)
    assert [(l["message"], l["source"]) for l in lines] == [("to out", "stdout"), ("to err", "stderr")]
    # Everything acknowledged: the spool is removed.
    assert not (tmp_path / "spool" / run_id).exists()


def test_child_sees_terminals_on_both_streams(server: Server, tmp_path: Path) -> None:
    code = "import os,sys\nprint(os.isatty(1), os.isatty(2), sys.stdout.line_buffering or sys.stdout.write_through)"
    run_id, rc, out, _ = run_to_end(server, tmp_path, code)
    assert rc == 0 and messages(server, run_id) == ["True True True"]


def test_sigkill_after_prints_every_line_stored(server: Server, tmp_path: Path) -> None:
    code = ("import os, signal\n"
            "for i in range(1000): print('line', i)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    run_id, rc, _, _ = run_to_end(server, tmp_path, code)
    assert rc == 128 + signal.SIGKILL
    run = server.get(f"/runs/{run_id}").json()
    assert (run["state"], run["exit_code"]) == ("crashed", 137)
    lines = server.all_lines(run_id)
    assert [l["message"] for l in lines[:1000]] == [f"line {i}" for i in range(1000)]
    assert len(lines) == 1001
    assert lines[-1]["source"] == "system" and "SIGKILL" in lines[-1]["message"]


def test_segfault_crashed(server: Server, tmp_path: Path) -> None:
    code = "print('before the crash', flush=True)\nimport ctypes\nctypes.string_at(0)\n"
    run_id, rc, _, _ = run_to_end(server, tmp_path, code)
    assert rc == 128 + signal.SIGSEGV
    run = server.get(f"/runs/{run_id}").json()
    assert run["state"] == "crashed"
    msgs = messages(server, run_id)
    assert msgs[0] == "before the crash"
    assert "SIGSEGV" in msgs[-1]


def test_exit_three_failed_with_code(server: Server, tmp_path: Path) -> None:
    code = "import sys\nfor i in range(50): print(i)\nprint('bad', file=sys.stderr)\nsys.exit(3)\n"
    run_id, rc, _, _ = run_to_end(server, tmp_path, code)
    assert rc == 3
    run = server.get(f"/runs/{run_id}").json()
    assert (run["state"], run["exit_code"]) == ("failed", 3)
    assert messages(server, run_id, source="stdout") == [str(i) for i in range(50)]
    assert messages(server, run_id, source="stderr") == ["bad"]


def test_command_not_found_fails_127(server: Server, tmp_path: Path) -> None:
    run_id, proc = run_cmd(server.base, ["/nonexistent/program"], tmp_path)
    proc.communicate(timeout=30)
    assert proc.returncode == 127
    run = server.get(f"/runs/{run_id}").json()
    assert (run["state"], run["exit_code"]) == ("failed", 127)
    assert "cannot run" in messages(server, run_id)[0]


def test_progress_ansi_long_line_invalid_bytes_grandchild(server: Server, tmp_path: Path) -> None:
    code = r"""
import os, subprocess, sys
out = sys.stdout.buffer
out.write(b"epoch 1: " + b"".join(b"\r%d%%" % p for p in range(0, 101, 10)) + b"\n")
out.write(b"\x1b[31mred\x1b[0m \x1b[2Kcleared\n")
out.write(b"x" * 200000 + b"\n")
out.write(b"bad \xff\xfe bytes\n")
out.flush()
subprocess.run([sys.executable, "-c", "print('from the grandchild')"], check=True)
os.system("echo from a shell grandchild >&2")
"""
    run_id, rc, out, _ = run_to_end(server, tmp_path, code)
    assert rc == 0
    assert b"\r10%" in out  # the terminal gets every update unchanged
    stdout = messages(server, run_id, source="stdout")
    assert stdout[0] == "100%h 1:"  # what the terminal shows: "\r" overwrites from column 0
    assert stdout[1] == "    cleared"  # ESC[2K erased "red ", the cursor stayed where it was
    long_pieces = stdout[2:6]
    assert "".join(long_pieces) == "x" * 200000 and all(len(p) <= 65536 for p in long_pieces)
    assert stdout[6] == "bad \ufffd\ufffd bytes"
    assert stdout[7] == "from the grandchild"
    assert messages(server, run_id, source="stderr") == ["from a shell grandchild"]


def test_ctrl_c_forwarded_child_handler_runs(server: Server, tmp_path: Path) -> None:
    code = ("import signal, sys, time\n"
            "def on_int(sig, frame):\n"
            "    print('handler ran', flush=True)\n"
            "    sys.exit(5)\n"
            "signal.signal(signal.SIGINT, on_int)\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)\n")
    run_id, proc = run_cmd(server.base, [PY, "-c", code], tmp_path)
    assert wait_until(lambda: messages_soon(server, run_id) == ["ready"], timeout=10)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 5
    assert messages(server, run_id) == ["ready", "handler ran"]
    assert server.get(f"/runs/{run_id}").json()["state"] == "failed"


def test_sigterm_forwarded(server: Server, tmp_path: Path) -> None:
    code = "import time\nprint('ready', flush=True)\ntime.sleep(30)\n"
    run_id, proc = run_cmd(server.base, [PY, "-c", code], tmp_path)
    assert wait_until(lambda: messages_soon(server, run_id) == ["ready"], timeout=10)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    run = server.get(f"/runs/{run_id}").json()
    assert run["state"] == "crashed"
    assert "SIGTERM" in messages(server, run_id)[-1]


def test_lines_are_live_while_the_program_runs_when_stdout_is_a_file(server: Server,
                                                                    tmp_path: Path) -> None:
    # The program prints without flushing (stdout is a file, so Python block-buffers it) and
    # then waits for the test to have seen that very line through the API before it prints the
    # next. Were lines held until the program exits, the program would give up waiting and the
    # test would fail; no clock threshold decides it.
    code = ("import os, sys, time\n"
            "for i in range(3):\n"
            "    print('tick', i)\n"
            "    gate = os.path.join(sys.argv[1], f'seen{i}')\n"
            "    deadline = time.monotonic() + 60\n"
            "    while not os.path.exists(gate) and time.monotonic() < deadline:\n"
            "        time.sleep(0.01)\n"
            "    if not os.path.exists(gate):\n"
            "        sys.exit(3)\n")
    with open(tmp_path / "out.txt", "wb") as f:
        run_id, proc = run_cmd(server.base, [PY, "-c", code, str(tmp_path)], tmp_path, stdout=f)
        for i in range(3):
            want = [f"tick {k}" for k in range(i + 1)]
            assert wait_until(lambda: messages_soon(server, run_id) == want, timeout=50), i
            (tmp_path / f"seen{i}").touch()
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert (tmp_path / "out.txt").read_bytes().count(b"tick") == 3


def test_server_down_ten_seconds_nothing_lost_nothing_duplicated(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    port = server.port
    code = ("import time\n"
            "for i in range(1400):\n"
            "    print('n', i, flush=True)\n"
            "    time.sleep(0.01)\n")
    run_id, proc = run_cmd(server.base, [PY, "-c", code], tmp_path)
    try:
        assert wait_until(lambda: len(messages_soon(server, run_id)) > 50, timeout=10)
        server.stop()
        time.sleep(10)
        server = Server(tmp_path).start(port)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0
        assert b"cannot reach the server" in err and b"reachable again" in err
        lines = server.all_lines(run_id)
        assert [l["message"] for l in lines] == [f"n {i}" for i in range(1400)]
        assert server.get(f"/runs/{run_id}").json()["state"] == "finished"
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()


class SilentServer:
    """Accepts connections and reads what is sent, but never answers: a hung proxy or server."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)  # kept open, never written to

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def test_server_that_never_answers_does_not_hold_the_exit(server: Server, tmp_path: Path) -> None:
    # Before the fix the uploader's read had no deadline at all (SO_RCVTIMEO only makes asio poll
    # again), so the wrapper never exited. Now each request gives up after its timeout, the run
    # ends with the child's code and the spool keeps everything for `sync`.
    silent = SilentServer()
    try:
        code = "for i in range(300): print('q', i)\nraise SystemExit(4)\n"
        run_id, proc = run_cmd(silent.base, [PY, "-c", code], tmp_path, extra=["--exit-timeout", "1"])
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 4, err
        assert out.decode().splitlines() == [f"q {i}" for i in range(300)]
    finally:
        silent.close()
    sync = subprocess.run([str(BINARY), "sync", "--server", server.base, str(tmp_path / "spool")],
                          capture_output=True, timeout=60)
    assert sync.returncode == 0, sync.stderr
    assert messages(server, run_id) == [f"q {i}" for i in range(300)]
    assert server.get(f"/runs/{run_id}").json()["state"] == "failed"


def test_wrapper_killed_then_sync_uploads_exactly_once(server: Server, tmp_path: Path) -> None:
    # The wrapper talks to a server that is not there, so everything it captures waits in the spool.
    dead = "http://127.0.0.1:9"
    code = "import time\nfor i in range(500): print('s', i)\nprint('done', flush=True)\ntime.sleep(60)\n"
    run_id, proc = run_cmd(dead, [PY, "-c", code], tmp_path, extra=["--name", "killed"])
    seg_dir = tmp_path / "spool" / run_id / "writers" / "main"

    def spooled() -> bool:
        return any(b'"done"' in p.read_bytes() for p in seg_dir.glob("*.jsonl"))

    assert wait_until(spooled, timeout=15)
    child_pid = child_of(proc.pid)
    proc.kill()  # the wrapper only: its child is in its own session
    proc.wait()
    os.kill(child_pid, signal.SIGKILL)
    for attempt in range(2):  # twice: the second run uploads nothing new
        sync = subprocess.run([str(BINARY), "sync", "--server", server.base, str(tmp_path / "spool")],
                              capture_output=True, timeout=60)
        assert sync.returncode == 0, sync.stderr
    lines = messages(server, run_id)
    assert lines == [f"s {i}" for i in range(500)] + ["done"]
    run = server.get(f"/runs/{run_id}").json()
    assert run["name"] == "killed" and run["state"] == "running"


def test_wrapper_killed_mid_upload_sync_completes_without_duplicates(server: Server, tmp_path: Path) -> None:
    # A live server: part of the output is uploaded (acked.json may lag), the rest only spooled.
    code = ("import time\n"
            "for i in range(20000): print('m', i)\n"
            "print('done', flush=True)\n"
            "time.sleep(60)\n")
    run_id, proc = run_cmd(server.base, [PY, "-c", code], tmp_path, stdout=subprocess.DEVNULL)
    seg_dir = tmp_path / "spool" / run_id / "writers" / "main"
    assert wait_until(lambda: any(b'"done"' in p.read_bytes() for p in seg_dir.glob("*.jsonl")), timeout=20)
    child_pid = child_of(proc.pid)
    proc.kill()
    proc.wait()
    os.kill(child_pid, signal.SIGKILL)
    sync = subprocess.run([str(BINARY), "sync", "--server", server.base, str(tmp_path / "spool")],
                          capture_output=True, timeout=60)
    assert sync.returncode == 0, sync.stderr
    assert messages(server, run_id) == [f"m {i}" for i in range(20000)] + ["done"]


def test_window_size_copied_from_our_terminal(server: Server, tmp_path: Path) -> None:
    run_id = "7d1c2f3a-8e4b-4c5d-9a6b-0c1d2e3f4a5b"
    inner = (f"stty cols 123 rows 45; {BINARY} run -q --server {server.base} --id {run_id} "
             f"--spool {tmp_path / 'spool'} -- {PY} -c 'import os; print(os.get_terminal_size(1), "
             f"os.get_terminal_size(2))'")
    # `script` gives the wrapper a terminal of its own, of a known size.
    subprocess.run(["script", "-qfec", inner, "/dev/null"], capture_output=True, timeout=60, check=True)
    size = "os.terminal_size(columns=123, lines=45)"
    assert messages(server, run_id) == [f"{size} {size}"]


def test_progress_bar_states_reach_live_viewers_a_few_times_a_second(server: Server, tmp_path: Path) -> None:
    from websockets.sync.client import connect

    code = ("import sys, time\n"
            "for p in range(0, 101, 2):\n"
            "    sys.stdout.write('\\rtraining: %3d%%' % p); sys.stdout.flush()\n"
            "    time.sleep(0.04)\n"
            "print()\n"
            "print('after the bar')\n")
    run_id, proc = run_cmd(server.base, [PY, "-c", "import time; time.sleep(0.5)\n" + code], tmp_path)
    assert wait_until(lambda: server.get(f"/runs/{run_id}").status == 200, timeout=10)
    frames = []
    with connect(f"ws://127.0.0.1:{server.port}/api/v1/runs/{run_id}/logs/stream") as ws:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                frame = json.loads(ws.recv(timeout=0.5))
            except TimeoutError:
                if proc.poll() is not None:
                    break
                continue
            frames.append((time.monotonic(), frame))
            if frame["type"] == "logs" and any(l["message"] == "after the bar" for l in frame["logs"]):
                break
    proc.communicate(timeout=30)
    progress = [(t, f) for t, f in frames if f["type"] == "progress"]
    assert len(progress) >= 3, frames
    assert all(f["message"].startswith("training:") and f["source"] == "stdout" for _, f in progress)
    gaps = [b[0] - a[0] for a, b in zip(progress, progress[1:])]
    assert min(gaps) > 0.2  # a few a second, not one per update
    # Only the final state is stored.
    assert messages(server, run_id) == ["training: 100%", "after the bar"]
