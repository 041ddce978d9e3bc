"""`wanllmdb run`: the order of stdout and stderr as the terminal shows it (issue 9, item 4) and
the window a child gets when our own output is not a terminal (item 8)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import Server, messages, run_cmd
from terminal_oracle import CORPUS, corpus_env, screen_lines, visible

PY = sys.executable

ALTERNATING = """
import sys
for i in range(300):
    sys.stdout.write(f"out {i}\\n"); sys.stdout.flush()
    sys.stderr.write(f"err {i}\\n"); sys.stderr.flush()
"""
EXPECTED = [f"{s} {i}" for i in range(300) for s in ("out", "err")]


def finish(server: Server, run_id: str, proc: subprocess.Popen[bytes]) -> bytes:
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert server.get(f"/runs/{run_id}").json()["state"] == "finished"
    return out or b""


def test_stdout_and_stderr_to_one_pipe_keep_the_programs_order(server: Server, tmp_path: Path) -> None:
    run_id, proc = run_cmd(server.base, [PY, "-c", ALTERNATING], tmp_path, extra=["-q"], stderr=subprocess.STDOUT)
    out = finish(server, run_id, proc)
    # What the user sees is byte for byte what the program wrote, in the order it wrote it...
    assert out.decode().splitlines() == EXPECTED
    # ...and the stored order is the same.
    assert messages(server, run_id) == EXPECTED


def test_stdout_and_stderr_to_one_file_store_what_the_file_shows(server: Server, tmp_path: Path) -> None:
    """`> log 2>&1` with tqdm bars on stderr and tqdm.write / print on stdout."""
    log = tmp_path / "log"
    with open(log, "wb") as f:
        run_id, proc = run_cmd(server.base, [PY, str(CORPUS / "tqdm_write.py")], tmp_path, extra=["-q"], stdout=f,
                               stderr=subprocess.STDOUT, env=corpus_env())
        finish(server, run_id, proc)
    shown = screen_lines(log.read_bytes().replace(b"\n", b"\r\n"))
    assert "Saving checkpoint..." in shown and shown[-1] == "finished"
    assert any(line.startswith("epoch: 100%") for line in shown)  # the bars were drawn
    assert visible(messages(server, run_id)) == shown


def test_separate_destinations_keep_attribution(server: Server, tmp_path: Path) -> None:
    run_id, proc = run_cmd(server.base, [PY, "-c", ALTERNATING], tmp_path, extra=["-q"])
    out, err = proc.communicate(timeout=60)
    assert out.decode().splitlines() == EXPECTED[0::2] and err.decode().splitlines() == EXPECTED[1::2]
    assert messages(server, run_id, source="stdout") == EXPECTED[0::2]
    assert messages(server, run_id, source="stderr") == EXPECTED[1::2]


SIZE = "import os\nprint(*os.get_terminal_size(1), *os.get_terminal_size(2))\n"


def test_child_gets_80x24_when_our_output_is_a_file(server: Server, tmp_path: Path) -> None:
    env: dict[str, Any] = {k: v for k, v in corpus_env().items() if k not in ("COLUMNS", "LINES")}
    run_id, proc = run_cmd(server.base, [PY, "-c", SIZE], tmp_path, extra=["-q"], stdin=subprocess.DEVNULL, env=env)
    assert finish(server, run_id, proc) == b"80 24 80 24\n"


def test_child_window_follows_columns_and_lines(server: Server, tmp_path: Path) -> None:
    env = {**corpus_env(), "COLUMNS": "132", "LINES": "50"}
    run_id, proc = run_cmd(server.base, [PY, "-c", SIZE], tmp_path, extra=["-q"], stdin=subprocess.DEVNULL, env=env)
    assert finish(server, run_id, proc) == b"132 50 132 50\n"


def test_tqdm_draws_its_bar_when_our_output_is_a_file(server: Server, tmp_path: Path) -> None:
    with open(tmp_path / "log", "wb") as f:
        run_id, proc = run_cmd(server.base, [PY, str(CORPUS / "tqdm_single.py")], tmp_path, extra=["-q"], stdout=f,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=corpus_env())
        finish(server, run_id, proc)
    msgs = messages(server, run_id)
    assert len(msgs) == 2 and msgs[0].startswith("train: 100%") and "40/40" in msgs[0] and msgs[1] == "done"


def test_pipe_mode_gives_the_program_what_a_file_gives(server: Server, tmp_path: Path) -> None:
    code = "import os, sys\nprint(os.isatty(1), os.isatty(2), sys.stdout.line_buffering)\nprint('x', file=sys.stderr)\n"
    run_id, proc = run_cmd(server.base, [PY, "-c", code], tmp_path, extra=["-q", "--pipe"])
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out == b"False False False\n" and err == b"x\n"
    # (block-buffered stdout leaves at exit, after the stderr line: the program's own order)
    assert messages(server, run_id, source="stdout") == ["False False False"]
    assert messages(server, run_id, source="stderr") == ["x"]
