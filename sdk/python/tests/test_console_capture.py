"""Wrap-mode proxies keep the stream's surface; StreamCapture feeds the shared assembler."""
from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import List, Tuple

from wanllmdb.capture_guard import suppressed
from wanllmdb.console_capture import CaptureBuffer, StreamCapture, TextProxy, resolve_console_mode, wrap_stream


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


def test_wrapped_stream_is_a_text_stream_over_the_original(tmp_path: Path) -> None:
    raw = open(tmp_path / "out.txt", "w", encoding="utf-8")
    sink = Sink()
    wrapped = wrap_stream(raw, StreamCapture("stdout", sink))
    assert isinstance(wrapped.buffer, CaptureBuffer)
    assert (wrapped.encoding, wrapped.errors, wrapped.line_buffering) == (raw.encoding, raw.errors, raw.line_buffering)
    assert wrapped.fileno() == raw.fileno() and wrapped.isatty() is False and wrapped.name == raw.name
    print("first", 1, file=wrapped, flush=True)
    raw.write("direct\n")  # a holder of the old reference: its text goes out before ours
    wrapped.write("sec")
    wrapped.write("ond\n")
    wrapped.flush()  # as with any TextIOWrapper, flush the text layer before using .buffer
    wrapped.buffer.write("bytes \xe9\n".encode())
    wrapped.reconfigure(line_buffering=True)
    wrapped.write("third\n")
    assert sink.lines[-1] == ("stdout", "third")  # line buffered now: captured at once
    del wrapped  # garbage collection of the wrapper must not close the real stream
    import gc
    gc.collect()
    assert not raw.closed
    raw.close()
    assert (tmp_path / "out.txt").read_text() == "first 1\ndirect\nsecond\nbytes \xe9\nthird\n"
    assert sink.lines == [("stdout", "first 1"), ("stdout", "second"), ("stdout", "bytes \xe9"), ("stdout", "third")]
