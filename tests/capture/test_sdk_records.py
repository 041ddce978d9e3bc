"""Issue 9, SDK side: `logging` records are stored as the text the handler printed, with the
record's level, once, in their place among the prints (also on a terminal); Jupyter cells are
captured exactly, the kernel's internals never. Real libraries (rich, absl-py, ipykernel,
nbclient), the real sidecar and server."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, Server, wait_until
from test_sdk_fate import MODES, final_run, run_py, sdk_env

ALL_MODES = MODES + ["wrap"]


def stored(server: Server, run_id: str) -> list[dict[str, Any]]:
    final_run(server, run_id)
    return server.all_lines(run_id)


def notebook_lines(nb: Any) -> list[str]:
    """The lines a notebook shows of its cells' stream output. Jupyter front ends join
    consecutive outputs of one stream into one text: ipykernel flushes on a timer, so a busy
    machine can send `print('x')` as "x" and "\n" in two messages, which still show as one line."""
    lines: list[str] = []
    for cell in nb.cells:
        texts: list[tuple[str, str]] = []  # (stream name, text), consecutive ones joined
        for out in cell.get("outputs", []):
            if out.get("output_type") != "stream":
                continue
            if texts and texts[-1][0] == out["name"]:
                texts[-1] = (out["name"], texts[-1][1] + out["text"])
            else:
                texts.append((out["name"], out["text"]))
        lines += [line for _, text in texts for line in text.splitlines()]
    return lines


@pytest.mark.parametrize("console", ALL_MODES)
def test_records_are_stored_as_printed_with_their_level(server: Server, tmp_path: Path, console: str) -> None:
    run_id = str(uuid.uuid4())
    env = sdk_env(tmp_path, server.base, console, TEST_RUN_ID=run_id)
    proc = run_py(tmp_path, """
        import logging, os, sys
        import wanllmdb
        logging.basicConfig()  # before init: the default format on stderr
        wanllmdb.init(project="records", id=os.environ["TEST_RUN_ID"])
        logging.warning("low disk space")
        ranked = logging.getLogger("ddp")
        ranked.propagate = False
        h = logging.StreamHandler(sys.stdout)
        h.setFormatter(logging.Formatter("[rank2] %(filename)s:%(lineno)d %(levelname)s %(message)s"))
        ranked.addHandler(h)
        ranked.setLevel(logging.DEBUG)
        ranked.error("allreduce timed out")
        logging.getLogger("chatty").debug("nobody prints this")  # root is at WARNING
        quiet = logging.getLogger("filtered")
        quiet.setLevel(logging.DEBUG)
        quiet.propagate = False
        fh = logging.StreamHandler(sys.stderr)
        fh.setLevel(logging.ERROR)
        quiet.addHandler(fh)
        quiet.info("below the handler's level")
        to_file = logging.getLogger("to_file")
        to_file.propagate = False
        f = logging.FileHandler("app.log")
        f.setFormatter(logging.Formatter("FILE %(levelname)s %(message)s"))
        to_file.addHandler(f)
        to_file.warning("only in the file")
        try:
            1 / 0
        except ZeroDivisionError:
            logging.exception("it failed")
        print("done")
        wanllmdb.finish()
    """, env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING:root:low disk space" in proc.stderr  # the terminal is unchanged
    lines = stored(server, run_id)
    got = [(l["message"], l["level"]) for l in lines if l["source"] == "user"]
    assert ("WARNING:root:low disk space", "WARNING") in got
    assert ("[rank2] script.py:13 ERROR allreduce timed out", "ERROR") in got
    assert ("FILE WARNING only in the file", "WARNING") in got
    assert ("ERROR:root:it failed", "ERROR") in got
    assert ("ZeroDivisionError: division by zero", "ERROR") in got
    every = [l["message"] for l in lines]
    for text in ("low disk space", "allreduce timed out", "it failed"):  # each record once
        assert len([m for m in every if text in m]) == 1, (text, lines)
    assert not [m for m in every if "nobody prints this" in m or "below the handler" in m], lines
    assert every[-1] == "done"


@pytest.mark.parametrize("console", MODES)
def test_absl_and_rich_handlers_once_in_their_own_format(server: Server, tmp_path: Path, console: str) -> None:
    run_id = str(uuid.uuid4())
    env = sdk_env(tmp_path, server.base, console, TEST_RUN_ID=run_id, COLUMNS="200")
    proc = run_py(tmp_path, """
        import logging, os
        from absl import logging as absl_logging
        from rich.logging import RichHandler
        import wanllmdb
        wanllmdb.init(project="libs", id=os.environ["TEST_RUN_ID"])
        absl_logging.use_absl_handler()
        absl_logging.warning("absl says hi")
        logging.root.removeHandler(absl_logging.get_absl_handler())
        rich_log = logging.getLogger("richy")
        rich_log.propagate = False
        rich_log.addHandler(RichHandler(show_time=False, show_path=False))
        rich_log.warning("rich says hi")
        wanllmdb.finish()
    """, env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = stored(server, run_id)
    absl = [l for l in lines if "absl says hi" in l["message"]]
    assert len(absl) == 1 and absl[0]["level"] == "WARNING", lines
    assert re.fullmatch(r"W\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ script\.py:\d+\] absl says hi", absl[0]["message"]), absl
    rich = [l for l in lines if "rich says hi" in l["message"]]
    assert len(rich) == 1 and rich[0]["level"] == "WARNING", lines
    assert rich[0]["message"].split() == ["WARNING", "rich", "says", "hi"], rich


def test_records_keep_their_place_among_prints_on_a_terminal(server: Server, tmp_path: Path) -> None:
    # stdout and stderr are terminals (`script`): the sidecar reads pseudo-terminals, where
    # "the channel is empty" could be true before the bytes arrived.
    run_id = str(uuid.uuid4())
    env = sdk_env(tmp_path, server.base, "agent", TEST_RUN_ID=run_id)
    script = tmp_path / "order.py"
    script.write_text(textwrap.dedent("""
        import logging, os
        import wanllmdb
        logging.basicConfig(format="%(levelname)s %(message)s")
        wanllmdb.init(project="order", id=os.environ["TEST_RUN_ID"])
        for i in range(300):
            print(f"print {i}")
            logging.warning(f"record {i}")
        wanllmdb.finish()
    """))
    proc = subprocess.run(["script", "-qfec", f"{sys.executable} {script}", "/dev/null"], env=env,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc
    msgs = [l["message"] for l in stored(server, run_id)]
    # The order is what this test is about: (kind, number), whatever the record's stored text.
    order = [(m.split()[-2].replace("print", "p").replace("record", "r"), m.split()[-1]) for m in msgs]
    assert order == [(kind, str(i)) for i in range(300) for kind in ("p", "r")], msgs
    assert msgs[:2] == ["print 0", "WARNING record 0"]
    assert b"wanllmdb-sync" not in proc.stdout  # the markers never reach the terminal


def test_jupyter_cells_captured_exactly_kernel_internals_never(server: Server, tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    run_id = str(uuid.uuid4())
    env = sdk_env(tmp_path, server.base, "agent", TEST_RUN_ID=run_id)
    cells = [
        "import logging, os, sys\nimport wanllmdb\nrun = wanllmdb.init(project='nb', id=os.environ['TEST_RUN_ID'])",
        "logging.getLogger().setLevel(logging.DEBUG)  # every kernel logger's DEBUG records are enabled now",
        "print('cell output 1')\nprint('to stderr', file=sys.stderr)",
        "for i in range(3):\n    print('loop', i)",
        "h = logging.StreamHandler(sys.stdout)\nh.setFormatter(logging.Formatter('%(levelname)s %(message)s'))\n"
        "h.setLevel(logging.INFO)\nlogging.getLogger('mine').addHandler(h)\nlogging.getLogger('mine').warning('a record')",
        "import asyncio\nawait asyncio.sleep(0)\nprint('after await')",
        "!echo from a shell command",
        "1 / 0",
        "run.finish()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}})
    import os as _os
    saved = dict(_os.environ)
    _os.environ.update(env)
    try:
        client.execute()
    finally:
        _os.environ.clear()
        _os.environ.update(saved)
    shown = notebook_lines(nb)
    assert shown == ["cell output 1", "to stderr", "loop 0", "loop 1", "loop 2", "WARNING a record", "after await",
                     "from a shell command"], shown
    lines = stored(server, run_id)
    msgs = [l["message"] for l in lines]
    assert msgs[:len(shown)] == shown, msgs
    # Then the failing cell's traceback as the notebook shows it (ERROR); nothing of the kernel's.
    error = lines[len(shown):]
    assert error and all(l["level"] == "ERROR" for l in error), error
    assert any("ZeroDivisionError" in l["message"] for l in error), error
    assert server.get(f"/runs/{run_id}").json()["state"] == "finished"  # the kernel went on


def test_jupyter_os_system_output_is_captured_as_the_notebook_shows_it(server: Server, tmp_path: Path) -> None:
    """os.system (and a C extension's printf) writes to fds 1/2, which ipykernel forwards to the
    notebook from a thread of its own, past sys.stdout: it is stored too, in the notebook's order."""
    import nbformat
    from nbclient import NotebookClient

    run_id = str(uuid.uuid4())
    env = sdk_env(tmp_path, server.base, "agent", TEST_RUN_ID=run_id)
    # The kernel forwards fd output asynchronously, so the notebook itself may show it after a
    # later cell's print: the third cell waits until it is stored (or fails after 60 s), which
    # also fixes the order the notebook shows.
    wait_stored = (
        "import json, time, urllib.request\n"
        "deadline = time.monotonic() + 60\n"
        "url = os.environ['WANLLMDB_BASE_URL'].rstrip('/') + '/api/v1/runs/' + os.environ['TEST_RUN_ID'] + '/logs?limit=100'\n"
        "while not any(l['message'] == 'from os.system' for l in json.load(urllib.request.urlopen(url))['logs']):\n"
        "    assert time.monotonic() < deadline, 'os.system output was not stored'\n"
        "    time.sleep(0.05)\n"
    )
    cells = [
        "import os, sys\nimport wanllmdb\nrun = wanllmdb.init(project='nb', id=os.environ['TEST_RUN_ID'])",
        "print('before')\n_ = os.system('echo from os.system')",
        wait_stored,
        "print('after')",
        "run.finish()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    import os as _os
    saved = dict(_os.environ)
    _os.environ.update(env)
    # ipykernel leaves fds 1/2 alone when it sees it runs under pytest: users' kernels don't.
    _os.environ.pop("PYTEST_CURRENT_TEST", None)
    try:
        client.execute()
    finally:
        _os.environ.clear()
        _os.environ.update(saved)
    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, errors
    shown = notebook_lines(nb)
    assert shown == ["before", "from os.system", "after"], shown
    assert [l["message"] for l in stored(server, run_id)] == shown


@pytest.mark.parametrize("console", ALL_MODES)
def test_structured_records_keep_fields_and_level_names(server: Server, tmp_path: Path, console: str) -> None:
    """Issue 13, in every console mode (the sidecar passes them on too): log_message(**fields),
    logging's extra= and custom level names arrive as fields and level_name, in their place."""
    run_id = str(uuid.uuid4())
    env = sdk_env(tmp_path, server.base, console, TEST_RUN_ID=run_id)
    proc = run_py(tmp_path, """
        import logging, os
        import wanllmdb
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
        logging.addLevelName(25, "NOTICE")
        run = wanllmdb.init(project="fields", id=os.environ["TEST_RUN_ID"])
        print("before")
        run.log_message("eval done", loss=1.75, step=100, nested={"gpu": 0})
        run.log_message("trained", level="SUCCESS", epoch=3)
        logging.getLogger("trainer").info("step done", extra={"loss": 0.5, "rank": 2})
        logging.log(25, "a notice")
        print("after")
        wanllmdb.finish()
    """, env)
    assert proc.returncode == 0, proc
    lines = stored(server, run_id)
    by = {l["message"]: l for l in lines}
    assert [l["message"] for l in lines] == ["before", "eval done", "trained", "INFO step done",
                                             "NOTICE a notice", "after"], lines
    assert by["eval done"]["fields"] == {"loss": 1.75, "step": 100, "nested": {"gpu": 0}}
    assert (by["trained"]["level"], by["trained"]["level_name"], by["trained"]["fields"]) == \
        ("INFO", "SUCCESS", {"epoch": 3})
    assert by["INFO step done"]["fields"] == {"loss": 0.5, "rank": 2}
    assert (by["NOTICE a notice"]["level"], by["NOTICE a notice"]["level_name"]) == ("INFO", "NOTICE")
    assert "fields" not in by["before"]
