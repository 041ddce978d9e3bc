"""The Python SDK with console="auto" and the binary available: the sidecar (`wanllmdb agent`)
captures fds 1/2 and survives the script (issue 5)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from conftest import BINARY, ROOT, without_unbuffered, Server, messages, wait_until

PRELUDE = """
import os, signal, sys, logging
import wanllmdb
config = {"big": "c" * int(os.environ.get("TEST_CONFIG_BYTES", "1"))}
run = wanllmdb.init(project="sdk-agent", id=os.environ["TEST_RUN_ID"], config=config)
assert run._capture is not None and run._capture.mode == os.environ["TEST_MODE"], run._capture
"""


def run_script(server: Server, tmp_path: Path, body: str, mode: str = "agent",
               binary: str = str(BINARY), config_bytes: int = 1,
               terminal: bool = False) -> tuple[str, subprocess.CompletedProcess[bytes]]:
    run_id = str(uuid.uuid4())
    env = {**without_unbuffered(), "TEST_CONFIG_BYTES": str(config_bytes), "PYTHONPATH": str(ROOT / "sdk" / "python"), "WANLLMDB_BIN": binary,
           "WANLLMDB_BASE_URL": server.base, "WANLLMDB_DIR": str(tmp_path / "spool"),
           "TEST_RUN_ID": run_id, "TEST_MODE": mode}
    env.pop("WANLLMDB_CONSOLE", None)
    script = tmp_path / "script.py"
    script.write_text(PRELUDE + body)
    args = [sys.executable, str(script)]
    if terminal:  # stdout and stderr on a terminal (`script` gives the script a pty)
        args = ["script", "-qfec", " ".join(args), "/dev/null"]
    proc = subprocess.run(args, env=env, capture_output=True, timeout=60)
    return run_id, proc


def final_state(server: Server, run_id: str) -> Any:
    # The agent outlives a killed script: wait for it to set the state.
    assert wait_until(lambda: server.get(f"/runs/{run_id}").json()["state"] != "running", timeout=15)
    return server.get(f"/runs/{run_id}").json()


KILL_AFTER_1000 = """
for i in range(1000):
    print("print", i)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_sigkill_after_1000_prints_all_stored(server: Server, tmp_path: Path) -> None:
    # On a terminal the SDK keeps stdout line-buffered: every print has left the process.
    run_id, proc = run_script(server, tmp_path, KILL_AFTER_1000, terminal=True)
    assert b"print 999" in proc.stdout  # teed to the original terminal
    run = final_state(server, run_id)
    assert run["state"] == "crashed"
    lines = server.all_lines(run_id)
    assert [l["message"] for l in lines[:1000]] == [f"print {i}" for i in range(1000)]
    assert len(lines) == 1001 and lines[-1]["source"] == "system"


def test_sigkill_stdout_to_a_pipe_all_1000_stored(server: Server, tmp_path: Path) -> None:
    # Batch jobs print to a file or pipe: stdout stays line-buffered under the agent, so every
    # print has left the process when the SIGKILL comes.
    run_id, proc = run_script(server, tmp_path, KILL_AFTER_1000)
    assert proc.returncode == -signal.SIGKILL
    assert final_state(server, run_id)["state"] == "crashed"
    msgs = messages(server, run_id)
    assert msgs[:1000] == [f"print {i}" for i in range(1000)]
    assert len(msgs) == 1001 and msgs[-1].startswith("the script ended without finishing")
    assert proc.stdout.count(b"\n") == 1000  # the terminal copy has every line too


def test_segfault_in_c_code_everything_stored(server: Server, tmp_path: Path) -> None:
    # The run body (config included) reaches the agent as run.json, not argv; configs are capped
    # at 64 KiB by the server, so this one stays just under the cap.
    run_id, proc = run_script(server, tmp_path, config_bytes=60_000, body="""
print("before", flush=True)
os.write(1, b"raw write from C-level code\\n")
import ctypes
ctypes.string_at(0)
""")
    assert proc.returncode == -signal.SIGSEGV
    assert final_state(server, run_id)["state"] == "crashed"
    assert messages(server, run_id)[:2] == ["before", "raw write from C-level code"]
    assert len(server.get(f"/runs/{run_id}").json()["config"]["big"]) == 60_000


def test_normal_exit_finished_in_order_no_duplicates(server: Server, tmp_path: Path) -> None:
    run_id, proc = run_script(server, tmp_path, """
logging.basicConfig(level=logging.INFO)
print("first")
logging.warning("a warning")
print("second")
os.system("echo from a subprocess")
print("to stderr", file=sys.stderr)
run.log_message("user message", level="ERROR")
print("last")
""")
    assert proc.returncode == 0, proc.stderr
    run = server.get(f"/runs/{run_id}").json()  # finished before the script exited
    assert (run["state"], run["exit_code"]) == ("finished", 0)
    lines = server.all_lines(run_id)
    got = [(l["message"], l["source"], l["level"]) for l in lines]
    assert got == [("first", "stdout", "INFO"), ("WARNING:root:a warning", "user", "WARNING"), ("second", "stdout", "INFO"),
                   ("from a subprocess", "stdout", "INFO"), ("to stderr", "stderr", "INFO"),
                   ("user message", "user", "ERROR"), ("last", "stdout", "INFO")]
    assert b"WARNING:root:a warning" in proc.stderr  # shown once on the terminal, stored once
    assert proc.stdout == b"first\nsecond\nfrom a subprocess\nlast\n"
    assert not (tmp_path / "spool").exists()  # all delivered: no spool left behind


def test_uncaught_exception_failed(server: Server, tmp_path: Path) -> None:
    run_id, proc = run_script(server, tmp_path, """
print("working")
raise RuntimeError("boom")
""")
    assert proc.returncode == 1
    run = server.get(f"/runs/{run_id}").json()
    assert run["state"] == "failed"
    msgs = messages(server, run_id)
    assert msgs[0] == "working" and any("RuntimeError: boom" in m for m in msgs)


def test_missing_binary_falls_back_to_redirect(server: Server, tmp_path: Path) -> None:
    run_id, proc = run_script(server, tmp_path, "print('hello')\n", mode="redirect",
                              binary=str(tmp_path / "no-such-binary"))
    assert proc.returncode == 0, proc.stderr
    assert messages(server, run_id) == ["hello"]
    assert server.get(f"/runs/{run_id}").json()["state"] == "finished"


def test_agent_killed_script_goes_on(server: Server, tmp_path: Path) -> None:
    run_id, proc = run_script(server, tmp_path, """
import subprocess, time
print("captured", flush=True)
time.sleep(0.1)  # read and spooled by the agent, probably not uploaded yet
os.kill(run._capture._proc.pid, signal.SIGKILL)
time.sleep(0.5)  # the watchdog puts the original fds back
for i in range(20000):
    print("after the agent died", i)
print("the end")
""")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert b"capture agent exited unexpectedly" in proc.stderr
    assert proc.stdout.endswith(b"after the agent died 19999\nthe end\n")
    # What the agent had read before it was killed is in its spool (written ahead of any upload).
    sync = subprocess.run([str(BINARY), "sync", "--server", server.base, str(tmp_path / "spool")],
                          capture_output=True, timeout=60)
    assert sync.returncode == 0, sync.stderr
    assert messages(server, run_id)[0] == "captured"


def test_server_down_ten_seconds_nothing_lost_nothing_duplicated(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    port = server.port
    run_id = str(uuid.uuid4())
    env = {**without_unbuffered(), "PYTHONPATH": str(ROOT / "sdk" / "python"), "WANLLMDB_BIN": str(BINARY),
           "WANLLMDB_BASE_URL": server.base, "WANLLMDB_DIR": str(tmp_path / "spool"),
           "TEST_RUN_ID": run_id, "TEST_MODE": "agent"}
    script = tmp_path / "script.py"
    script.write_text(PRELUDE + """
import time
logging.basicConfig()
for i in range(1400):
    print("n", i, flush=True)
    if i % 100 == 0:
        logging.getLogger().warning("w %d", i)
    time.sleep(0.01)
""")
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        assert wait_until(lambda: server.get(f"/runs/{run_id}").status == 200
                          and len(server.all_lines(run_id)) > 50, timeout=10)
        server.stop()
        time.sleep(10)
        server = Server(tmp_path).start(port)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        want = []
        for i in range(1400):
            want.append(f"n {i}")
            if i % 100 == 0:
                want.append(f"WARNING:root:w {i}")
        assert messages(server, run_id) == want
        assert server.get(f"/runs/{run_id}").json()["state"] == "finished"
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()


def test_run_refused_by_the_server_script_exits_at_once(server: Server, tmp_path: Path) -> None:
    # A config over the server's 64 KiB cap: the server answers 422 to the run's creation. The
    # agent used to deadlock in its final state update (and keep the script's pipes open, so
    # subprocess.run(capture_output=True) never returned: run_script's timeout fails the test).
    run_id, proc = run_script(server, tmp_path, 'print("hello")\nprint("oops", file=sys.stderr)\n',
                              config_bytes=100_000)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"hello\n"
    err = proc.stderr.decode()
    assert "oops" in err and "refused to create run" in err and "422" in err
    assert err.count("wanllmdb agent: the server refused") == 1, err
    assert server.get(f"/runs/{run_id}").status == 404
    # The output is kept where the message says.
    spooled = b"".join(p.read_bytes() for p in (tmp_path / "spool").rglob("*") if p.is_file())
    assert b"hello" in spooled and b"oops" in spooled


def test_finished_progress_bar_is_stored_while_the_script_waits(server: Server, tmp_path: Path) -> None:
    # A bar that ends with "\r100%\n" and then quiet: its row may still be redrawn until the
    # stream has been quiet a moment; the agent must then store it, not hold it until the
    # script prints again or ends (a training job may wait for hours after a bar).
    go = tmp_path / "go"
    body = f"""
import time
sys.stderr.write("\\r 50%")
sys.stderr.flush()
sys.stderr.write("\\r100%\\n")
sys.stderr.flush()
deadline = time.monotonic() + 50
while not os.path.exists({str(go)!r}) and time.monotonic() < deadline:
    time.sleep(0.05)
print("released" if os.path.exists({str(go)!r}) else "timed out")
"""
    result: dict[str, Any] = {}
    t = threading.Thread(target=lambda: result.update(zip(("run", "proc"), run_script(server, tmp_path, body))))
    t.start()
    try:
        def stored_bar() -> bool:
            runs = server.get("/runs?project=sdk-agent").json()["runs"]
            return any("100%" in messages(server, r["id"]) for r in runs)
        assert wait_until(stored_bar, timeout=30)
    finally:
        go.write_text("")
        t.join()
    assert result["proc"].returncode == 0
    assert result["proc"].stdout == b"released\n"
    assert messages(server, result["run"])[:2] == ["100%", "released"]
