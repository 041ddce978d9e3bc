"""Wrap-mode proxies keep the stream's surface; StreamCapture feeds the shared assembler."""
from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import List, Tuple

from wanllmdb.capture_guard import suppressed
from wanllmdb.console_capture import StreamCapture, TextProxy, resolve_console_mode


class Sink:
    def __init__(self) -> None:
        self.lines: List[Tuple[str, str]] = []

    def __call__(self, lines: List[str], source: str, ts: float) -> None:
        assert abs(ts - time.time()) < 5
        self.lines += [(source, line) for line in lines]


def test_text_proxy_passes_through_and_keeps_the_stream_surface(tmp_path: Path) -> None:
    raw = open(tmp_path / "out.txt", "w+", encoding="utf-8")
    sink = Sink()
    proxy = TextProxy(raw, StreamCapture("stdout", sink))
    print("hello", 42, file=proxy)  # type: ignore[arg-type]
    proxy.write("part")
    proxy.writelines([" two\n", "three\n"])
    proxy.flush()
    proxy.buffer.write("bytes \xe9\n".encode())
    proxy.buffer.flush()
    assert proxy.encoding == raw.encoding and proxy.fileno() == raw.fileno() and proxy.isatty() is False
    proxy.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    assert raw.line_buffering
    with suppressed():
        proxy.write("suppressed line\n")
    proxy.flush()
    raw.seek(0)
    assert raw.read() == "hello 42\npart two\nthree\nbytes \xe9\nsuppressed line\n"
    assert sink.lines == [("stdout", "hello 42"), ("stdout", "part two"), ("stdout", "three"),
                          ("stdout", "bytes \xe9")]


def test_partial_line_is_kept_until_flush_and_threads_do_not_interleave_lines() -> None:
    sink = Sink()
    cap = StreamCapture("stderr", sink)
    proxy = TextProxy(io.StringIO(), cap)

    def worker(n: int) -> None:
        for i in range(2000):
            proxy.write(f"t{n} line {i}\n")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    proxy.write("no newline yet")
    assert len(sink.lines) == 8000
    cap.flush()
    assert sink.lines[-1] == ("stderr", "no newline yet")
    for n in range(4):
        assert [line for _, line in sink.lines if line.startswith(f"t{n} ")] == [f"t{n} line {i}" for i in range(2000)]


def test_console_mode_resolution() -> None:
    assert resolve_console_mode("off") == "off"
    assert resolve_console_mode("wrap") == "wrap"
    # Under pytest's capture, fds 1/2 are not behind sys.stdout: auto must fall back to wrap.
    assert resolve_console_mode("auto") in ("wrap", "redirect")
