"""End to end, capture side: user scripts run as subprocesses against the real server."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from typing import Any, Dict, List

import pytest

from sdk_harness import SDK_DIR, ScriptResult, Server


def _by_message(lines: List[Dict[str, Any]]) -> Dict[str, List[Dict[str, Any]]]:
    out: Dict[str, List[Dict[str, Any]]] = {}
    for line in lines:
        out.setdefault(line["message"], []).append(line)
    return out


MANUAL_SCRIPT = """
import logging, sys
import wanllmdb
logging.basicConfig(level=logging.INFO)
run = wanllmdb.init(project="manual", id="{run_id}", console="{console}", config={{"lr": 0.1}}, tags=["t"])
assert wanllmdb.run is run
print("hello from stdout")
print("a second stdout line")
print("an error line on stderr", file=sys.stderr)
logging.info("info from logging")
logging.warning("warning from logging")
logging.getLogger("trainer").error("error from logging")
run.log_message("a user message", level="WARNING")
print(run.url)
wanllmdb.finish()
assert wanllmdb.run is None
print("after finish: not captured")
"""


@pytest.mark.parametrize("console", ["wrap", "redirect"])
def test_manual_script_every_line_once_with_source_and_level(server: Server, run_script, console: str) -> None:
    run_id = str(uuid.uuid4())
    res: ScriptResult = run_script(MANUAL_SCRIPT.format(run_id=run_id, console=console), server=server)
    assert res.returncode == 0, res
    # The terminal still gets everything, unchanged.
    assert "hello from stdout\n" in res.stdout and "after finish: not captured" in res.stdout
    assert "an error line on stderr" in res.stderr and "WARNING:root:warning from logging" in res.stderr
    assert f"{server.url}/runs/{run_id}" in res.stdout

    run = server.run(run_id)
    assert run["state"] == "finished" and run["exit_code"] == 0
    assert run["project"] == "manual" and run["config"] == {"lr": 0.1} and run["tags"] == ["t"]
    lines = server.logs(run_id)
    msgs = _by_message(lines)
    expect = {
        "hello from stdout": ("stdout", "INFO"),
        "a second stdout line": ("stdout", "INFO"),
        "an error line on stderr": ("stderr", None),
        # As the handler printed them (basicConfig's format), with their levels (issue 9).
        "INFO:root:info from logging": ("user", "INFO"),
        "WARNING:root:warning from logging": ("user", "WARNING"),
        "ERROR:trainer:error from logging": ("user", "ERROR"),
        "a user message": ("user", "WARNING"),
        f"{server.url}/runs/{run_id}": ("stdout", "INFO"),
    }
    for message, (source, level) in expect.items():
        assert len(msgs.get(message, [])) == 1, (message, lines)
        line = msgs[message][0]
        assert line["source"] == source, line
        assert line["writer"] == "main"
        if level is not None:
            assert line["level"] == level, line
    # The stream handler's text is not stored a second time as stderr.
    assert not [line for line in lines if "from logging" in line["message"] and line["source"] != "user"], lines
    assert "after finish: not captured" not in msgs
    assert len(lines) == len(expect), lines


@pytest.mark.parametrize("console", ["wrap", "redirect"])
def test_progress_bars_store_only_final_states(server: Server, run_script, console: str) -> None:
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import sys, time, wanllmdb
        wanllmdb.init(project="bars", id="{run_id}", console="{console}")
        for i in range(101):
            sys.stdout.write(f"\\rtraining {{i:3d}}%|" + "#" * (i // 10))
            sys.stdout.flush()
        sys.stdout.write("\\n")
        for i in range(5):
            sys.stderr.write(f"\\rstep {{i}}/4")
        sys.stderr.write("\\r\\n")
        print("\\x1b[32mgreen\\x1b[0m")
        wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    assert "\rtraining  50%" in res.stdout  # the terminal still sees every update
    messages = [(line["source"], line["message"]) for line in server.logs(run_id)]
    assert sorted(messages) == sorted([("stdout", "training 100%|##########"), ("stderr", "step 4/4"),
                                       ("stdout", "\x1b[32mgreen\x1b[0m")])


def test_redirect_captures_os_write_c_printf_and_child_processes(server: Server, run_script) -> None:
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import ctypes, os, subprocess, sys, wanllmdb
        wanllmdb.init(project="fd", id="{run_id}", console="redirect")
        os.write(1, b"raw os.write to fd 1\\n")
        os.write(2, b"raw os.write to fd 2\\n")
        libc = ctypes.CDLL(None)
        libc.printf(b"printf from C %d\\n", 42)
        libc.fflush(None)
        subprocess.run(["sh", "-c", "echo child stdout; echo child stderr >&2"], check=True)
        subprocess.run([sys.executable, "-c", "print('python child')"], check=True)
        wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    for text in ("raw os.write to fd 1", "printf from C 42", "child stdout", "python child"):
        assert text + "\n" in res.stdout, res
    for text in ("raw os.write to fd 2", "child stderr"):
        assert text + "\n" in res.stderr, res
    got = Counter((line["source"], line["message"]) for line in server.logs(run_id))
    assert got == Counter({("stdout", "raw os.write to fd 1"): 1, ("stderr", "raw os.write to fd 2"): 1,
                           ("stdout", "printf from C 42"): 1, ("stdout", "child stdout"): 1,
                           ("stderr", "child stderr"): 1, ("stdout", "python child"): 1})


@pytest.mark.parametrize("code, state, stored", [(3, "failed", 3), (0, "finished", 0), (None, "finished", 0),
                                                 ("bad config", "failed", 1)])
def test_sys_exit_code_decides_the_run_state(server: Server, run_script, code, state: str, stored: int) -> None:
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import sys, wanllmdb
        wanllmdb.init(project="exits", id="{run_id}", console="wrap")
        print("working")
        sys.exit({code!r})
    """, server=server)
    assert res.returncode == stored
    run = server.run(run_id)
    assert (run["state"], run["exit_code"]) == (state, stored)


@pytest.mark.parametrize("console", ["wrap", "redirect"])
def test_uncaught_exception_fails_the_run_with_its_traceback(server: Server, run_script, console: str) -> None:
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import wanllmdb
        wanllmdb.init(project="crash", id="{run_id}", console="{console}")
        print("before the crash")
        def inner():
            raise ValueError("boom 42")
        inner()
    """, server=server)
    assert res.returncode == 1
    assert "Traceback (most recent call last):" in res.stderr and "ValueError: boom 42" in res.stderr
    run = server.run(run_id)
    assert run["state"] == "failed" and run["exit_code"] == 1
    lines = server.logs(run_id)
    errors = [line for line in lines if line["level"] == "ERROR"]
    text = [line["message"] for line in errors]
    assert text[0] == "Traceback (most recent call last):" and text[-1] == "ValueError: boom 42", lines
    assert any('in inner' in t for t in text)
    # Stored once: the traceback Python prints is not captured a second time.
    assert [line["message"] for line in lines].count("ValueError: boom 42") == 1, lines
    assert "before the crash" in [line["message"] for line in lines]


def test_context_manager_and_exception_inside_it(server: Server, run_script) -> None:
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import wanllmdb
        try:
            with wanllmdb.init(project="ctx", id="{run_id}") as run:
                print("inside")
                raise KeyError("inside-with")
        except KeyError:
            pass
        print("outside", run.finished)
    """, server=server)
    assert res.returncode == 0, res
    assert "outside True" in res.stdout
    run = server.run(run_id)
    assert run["state"] == "failed"
    messages = [line["message"] for line in server.logs(run_id)]
    assert "inside" in messages and "KeyError: 'inside-with'" in messages and "outside True" not in messages


def test_disabled_mode_does_nothing(server: Server, run_script) -> None:
    project = "disabled-" + uuid.uuid4().hex[:8]
    res = run_script(f"""
        import logging, os, sys, threading, wanllmdb
        out, err = sys.stdout, sys.stderr
        run = wanllmdb.init(project="{project}")
        print("plain output", run.id is not None)
        logging.warning("a warning")
        run.log_message("ignored")
        assert sys.stdout is out and sys.stderr is err
        assert threading.active_count() == 1
        assert wanllmdb.run is run
        wanllmdb.finish()
        print("threads", threading.active_count(), "spool", os.path.exists(os.environ["WANLLMDB_DIR"]))
    """, server=server, env={"WANLLMDB_MODE": "disabled"})
    assert res.returncode == 0, res
    assert "plain output True" in res.stdout and "threads 1 spool False" in res.stdout
    assert "WARNING:root:a warning" in res.stderr and "wanllmdb" not in res.stderr
    assert server.get("/runs?project=" + project)["runs"] == []


def test_invalid_arguments_raise_value_or_type_error(server: Server, run_script) -> None:
    res = run_script("""
        import wanllmdb
        for kwargs, exc in [({"console": "tty"}, ValueError), ({"mode": "sometimes"}, ValueError),
                            ({"id": "not-a-uuid"}, ValueError), ({"config": [1, 2]}, TypeError),
                            ({"tags": "one"}, TypeError), ({"project": 3}, TypeError),
                            ({"base_url": "ftp://x"}, ValueError)]:
            try:
                wanllmdb.init(project=kwargs.pop("project", "p"), **kwargs)
            except exc as e:
                print("ok", type(e).__name__, e)
            else:
                print("NOT RAISED", kwargs)
        print("runs", wanllmdb.run)
    """, server=server)
    assert res.returncode == 0, res
    assert "NOT RAISED" not in res.stdout and res.stdout.count("ok ") == 7 and "runs None" in res.stdout


@pytest.mark.parametrize("console", ["wrap", "redirect"])
def test_logging_handlers_made_after_init_and_queue_listeners_store_once(server: Server, run_script,
                                                                           console: str) -> None:
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import logging, logging.handlers, queue, sys, wanllmdb
        wanllmdb.init(project="logq", id="{run_id}", console="{console}")
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(message)s")   # after init
        q = queue.Queue()
        listener = logging.handlers.QueueListener(q, logging.StreamHandler(sys.stdout))
        listener.start()
        qlog = logging.getLogger("queued")
        qlog.propagate = False
        qlog.addHandler(logging.handlers.QueueHandler(q))
        qlog.critical("via a queue listener")
        logging.debug("debug record")
        try:
            1 / 0
        except ZeroDivisionError:
            logging.exception("it failed")
        listener.stop()
        wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    assert "via a queue listener" in res.stdout and "DEBUG debug record" in res.stderr
    lines = server.logs(run_id)
    got = [(line["source"], line["level"], line["message"]) for line in lines]
    # As the handlers printed them (issue 9): the listener's handler has the default format.
    assert ("user", "CRITICAL", "via a queue listener") in got
    assert ("user", "DEBUG", "DEBUG debug record") in got
    assert ("user", "ERROR", "ERROR it failed") in got
    assert ("user", "ERROR", "ZeroDivisionError: division by zero") in got
    assert all(source == "user" for source, _, _ in got), got


def test_sequential_runs_in_one_process_and_thread_exceptions(server: Server, run_script) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    res = run_script(f"""
        import threading, wanllmdb
        run = wanllmdb.init(project="seq", id="{first}")
        print("in the first run")
        run.log_message("odd level", level="not a level!")  # no exception: stored as INFO, one warning
        second = wanllmdb.init(project="seq", id="{second}")  # finishes the first
        assert run.finished and wanllmdb.run is second
        print("in the second run")
        def work():
            raise RuntimeError("thread failed")
        t = threading.Thread(target=work, name="worker")
        t.start(); t.join()
        print("main goes on")
    """, server=server)
    assert res.returncode == 0, res
    assert "Exception in thread worker" in res.stderr and res.stderr.count("level must be one of") == 1
    first_lines = [(line["level"], line["message"]) for line in server.logs(first)]
    assert first_lines == [("INFO", "in the first run"), ("INFO", "odd level")]
    assert server.run(first)["state"] == "finished"
    second_lines = [line["message"] for line in server.logs(second)]
    assert second_lines[0] == "in the second run" and second_lines[-1] == "main goes on"
    assert second_lines.count("RuntimeError: thread failed") == 1
    assert second_lines[1].startswith("Exception in thread worker")
    assert server.run(second)["state"] == "failed"


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux script(1) for a terminal")
def test_redirect_on_a_terminal_keeps_isatty_for_the_program_and_its_children(server: Server, tmp_path) -> None:
    run_id = str(uuid.uuid4())
    script = tmp_path / "tty_script.py"
    script.write_text(textwrap.dedent(f"""
        import os, subprocess, sys, wanllmdb
        wanllmdb.init(project="tty", id="{run_id}", console="auto")
        print("isatty", sys.stdout.isatty(), os.isatty(1), os.isatty(2))
        subprocess.run(["sh", "-c", "test -t 1 && echo child sees a terminal"])
        print("\\x1b[1mbold\\x1b[0m")
        wanllmdb.finish()
    """))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANLLMDB_")}
    env.update(PYTHONPATH=str(SDK_DIR), WANLLMDB_BASE_URL=server.url, WANLLMDB_DIR=str(tmp_path / "spool"))
    proc = subprocess.run(["script", "-qec", f"{sys.executable} {script}", "/dev/null"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc
    assert b"isatty True True True" in proc.stdout and b"child sees a terminal" in proc.stdout
    assert [(line["source"], line["message"]) for line in server.logs(run_id)] == [
        ("stdout", "isatty True True True"), ("stdout", "child sees a terminal"), ("stdout", "\x1b[1mbold\x1b[0m")]


def test_log_message_fields_logging_extra_and_custom_levels(server: Server, run_script) -> None:
    """Issue 13: fields sent explicitly (log_message(**fields), logging's extra=) and custom level
    names (log_message(level="SUCCESS"), logging.addLevelName) arrive as fields and level_name,
    and can be filtered on; the terminal output is unchanged."""
    run_id = str(uuid.uuid4())
    res = run_script(f"""
        import logging, wanllmdb
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(message)s")
        logging.addLevelName(25, "NOTICE")
        run = wanllmdb.init(project="fields", id="{run_id}")
        run.log_message("eval done", loss=1.75, step=100, split="val", nested={{"gpu": 0}})
        run.log_message("trained", level="SUCCESS", epoch=3)
        run.log_message("odd value", when=object.__new__(type("T", (), {{"__str__": lambda s: "T!"}})))
        logging.getLogger("trainer").info("step done", extra={{"loss": 0.5, "rank": 2}})
        logging.log(25, "a notice")
        wanllmdb.finish()
    """, server=server)
    assert res.returncode == 0, res
    assert "NOTICE a notice" in res.stderr and "INFO step done" in res.stderr
    by = _by_message(server.logs(run_id))
    eval_line = by["eval done"][0]
    assert eval_line["fields"] == {"loss": 1.75, "step": 100, "split": "val", "nested": {"gpu": 0}}
    assert (eval_line["level"], eval_line["source"]) == ("INFO", "user")
    trained = by["trained"][0]
    assert (trained["level"], trained["level_name"], trained["fields"]) == ("INFO", "SUCCESS", {"epoch": 3})
    assert by["odd value"][0]["fields"] == {"when": "T!"}
    record = by["INFO step done"][0]
    assert record["fields"] == {"loss": 0.5, "rank": 2} and record["level"] == "INFO"
    notice = by["NOTICE a notice"][0]
    assert (notice["level"], notice["level_name"]) == ("INFO", "NOTICE") and "fields" not in notice
    over = server.logs(run_id, field="loss>1")
    assert [line["message"] for line in over] == ["eval done"]
