"""The capture corpus (issue 9): real libraries (tqdm, rich, loguru, colorlog, absl-py, click,
logging, warnings) run under a terminal, and what is stored must be what the terminal shows.

The oracle is pyte, a VT emulator, fed the bytes the user's terminal received: the lines it
shows at the end, scrollback included, are the lines capture must store (colours aside: pyte
keeps no SGR, so stored lines are compared without it). Under `wanllmdb run` the oracle's input
is the tee itself, so nothing varies between what is compared (no masking of rates or times).
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import re

import pytest

from conftest import BINARY, Server, wait_until
from terminal_oracle import CORPUS, ROWS, corpus_env, open_pty, run_on_pty, screen_lines, visible

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sdk" / "python"))
from wanllmdb.line_assembler import LineAssembler  # noqa: E402

SGR = re.compile(r"\x1b\[[0-9;:]*m")
PROGRAMS = sorted(p.name for p in CORPUS.glob("*.py"))


def assemble(raw: bytes) -> list[str]:
    a = LineAssembler(ROWS)
    return a.feed(raw) + a.flush()


@pytest.mark.parametrize("program", PROGRAMS)
def test_python_line_assembler_stores_what_the_terminal_shows(program: str) -> None:
    """The SDK's implementation of the rule, on the program's own bytes (output processing off,
    as under capture); the terminal gets them with '\\n' as '\\r\\n', as a tty's ONLCR does."""
    raw, rc = run_on_pty([sys.executable, str(CORPUS / program)], corpus_env(), opost=False)
    assert rc == 0, raw.decode(errors="replace")
    want = screen_lines(raw.replace(b"\n", b"\r\n"))
    assert want, "the program showed nothing"
    assert visible(assemble(raw)) == want


def run_on_terminal(server: Server, tmp_path: Path, argv: list[str]) -> tuple[str, bytes]:
    """`wanllmdb run -- argv` with its stdout and stderr on one terminal (a pty we read, as a
    user's terminal); returns the run id and what the terminal received."""
    run_id = str(uuid.uuid4())
    env = corpus_env({"WANLLMDB_DIR": str(tmp_path / "spool"), "WANLLMDB_EXIT_TIMEOUT": "20"})
    args = [str(BINARY), "run", "-q", "--server", server.base, "--project", "corpus", "--id", run_id, "--", *argv]
    shown, rc = run_on_pty(args, env, opost=True)
    assert rc == 0, shown.decode(errors="replace")
    return run_id, shown


def stored(server: Server, run_id: str) -> list[dict[str, Any]]:
    wait_until(lambda: server.get(f"/runs/{run_id}").json().get("state") == "finished", timeout=30)
    return server.all_lines(run_id)


@pytest.mark.parametrize("program", PROGRAMS)
def test_run_stores_what_the_terminal_shows(server: Server, tmp_path: Path, program: str) -> None:
    run_id, shown = run_on_terminal(server, tmp_path, [sys.executable, str(CORPUS / program)])
    want = screen_lines(shown)
    assert want, "the program showed nothing"
    lines = stored(server, run_id)
    assert visible([l["message"] for l in lines]) == want
    # Only colours are kept: no cursor movement, erase, hyperlink or mode escapes.
    for line in lines:
        assert "\x1b]" not in line["message"] and "\r" not in line["message"] and "\b" not in line["message"]
        assert "\x1b" not in SGR.sub("", line["message"])


def levels(server: Server, tmp_path: Path, program: str) -> dict[str, str]:
    run_id, _ = run_on_terminal(server, tmp_path, [sys.executable, str(CORPUS / program)])
    out: dict[str, str] = {}
    for line in stored(server, run_id):
        out[visible([line["message"]])[0] if visible([line["message"]]) else ""] = line["level"].lower()
    return out


def level_of(found: dict[str, str], needle: str) -> str:
    hits = [level for text, level in found.items() if needle in text]
    assert len(hits) == 1, (needle, found)
    return hits[0]


def test_levels_of_colour_logging_libraries(server: Server, tmp_path: Path) -> None:
    found = levels(server, tmp_path, "colorlog_prog.py")
    assert [level_of(found, f"{w} record") for w in ("debug", "info", "warning", "error", "critical")] == \
        ["debug", "info", "warning", "error", "critical"]
    found = levels(server, tmp_path, "loguru_prog.py")
    assert [level_of(found, f"{w} record") for w in ("debug", "info", "warning", "error")] == \
        ["debug", "info", "warning", "error"]
    # loguru's traceback: "> File" frames, blank lines between them, the exception line
    assert level_of(found, "> File") == "error"
    assert level_of(found, "ZeroDivisionError: division by zero") == "error"
    assert level_of(found, "end") == "info"


def test_levels_of_rich_handler_and_asctime_layouts(server: Server, tmp_path: Path) -> None:
    found = levels(server, tmp_path, "rich_logging.py")
    assert level_of(found, "debugging details") == "debug"
    assert level_of(found, "low disk space") == "warning"
    assert level_of(found, "with two lines") == "error"  # the record's second line
    found = levels(server, tmp_path, "logging_warnings.py")
    assert level_of(found, "an info record") == "info"
    assert level_of(found, "a warning") == "warning"
    assert level_of(found, "UserWarning: careful") == "warning"
    assert level_of(found, 'warnings.warn("careful")') == "warning"  # the warning's source line
    assert level_of(found, "stdout 1") == "info"


def test_nested_progress_bars_store_the_final_screen_only(server: Server, tmp_path: Path) -> None:
    run_id, _ = run_on_terminal(server, tmp_path, [sys.executable, str(CORPUS / "tqdm_nested.py")])
    msgs = [l["message"] for l in stored(server, run_id)]
    assert len(msgs) == 2 and msgs[0].startswith("epoch: 100%") and "3/3" in msgs[0] and msgs[1] == "finished"


def test_spinner_that_erases_itself_stores_nothing(server: Server, tmp_path: Path) -> None:
    run_id, _ = run_on_terminal(server, tmp_path, [sys.executable, str(CORPUS / "rich_status.py")])
    msgs = visible([l["message"] for l in stored(server, run_id)])
    assert msgs[0] == "before" and msgs[-1] == "after" and len(msgs) == 3
    assert not any("working hard" in m for m in msgs)
