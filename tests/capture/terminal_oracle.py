"""The oracle for the capture corpus: what a terminal shows. A program runs under a pty (as in a
user's terminal), and its bytes are fed to pyte, a VT emulator; the lines it shows, scrollback
included, are what capture must store."""
from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import Optional, Sequence

import pyte

CORPUS = Path(__file__).resolve().parent / "corpus"
COLS, ROWS = 80, 24
_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def open_pty(opost: bool = True) -> tuple[int, int]:
    """A pty pair sized COLS x ROWS; `opost=False` passes bytes unchanged (as `wanllmdb run`
    does for the program), else '\\n' becomes '\\r\\n' as on a user's terminal."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    if not opost:
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.OPOST
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return master, slave


def run_on_pty(argv: Sequence[str], env: dict[str, str], opost: bool = True,
               timeout: float = 60) -> tuple[bytes, int]:
    """Runs argv with stdin, stdout and stderr on one pty; returns everything it printed and its
    exit status."""
    master, slave = open_pty(opost)
    proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the pty
            break
        if not data:
            break
        out += data
    os.close(master)
    rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    return bytes(out), rc


def screen_lines(terminal_bytes: bytes, columns: int = 400) -> list[str]:
    """What a ROWS-row terminal shows after `terminal_bytes` (as a terminal receives them, with
    '\\r\\n' line ends): the scrollback and the screen, right-stripped, without leading and
    trailing blank lines. The screen is wide so that long lines are not wrapped (stored lines
    are never wrapped either); the terminal starts full, the cursor on its last row, as a
    terminal in use is."""
    screen = pyte.HistoryScreen(columns, ROWS, history=1_000_000)
    stream = pyte.ByteStream(screen)
    stream.feed(b"\r\n" * (ROWS - 1))
    stream.feed(terminal_bytes)

    def text(line: object) -> str:
        return "".join(line[x].data for x in range(columns)).rstrip()  # type: ignore[index]

    lines = [text(line) for line in screen.history.top] + [text(screen.buffer[y]) for y in range(ROWS)]
    return trim_blank(lines)


def trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def visible(stored: Sequence[str]) -> list[str]:
    """Stored lines as a terminal shows them: colours removed, tabs expanded, right-stripped."""
    return trim_blank([_SGR.sub("", line).expandtabs(8).rstrip() for line in stored])


def corpus_env(extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "COLUMNS", "LINES",
                                                            "NO_COLOR", "FORCE_COLOR", "TERM")}
    env["TERM"] = "xterm-256color"
    env.update(extra or {})
    return env
