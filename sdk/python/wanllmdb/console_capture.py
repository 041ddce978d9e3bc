"""stdout/stderr capture: "wrap" (replaced sys.stdout/sys.stderr) and "redirect" (fds 1 and 2).

Both feed bytes to one StreamCapture per stream, which applies the shared LineAssembler rules
(line_assembler.py) and hands complete lines to the uploader. Output always reaches the original
destination unchanged; capture errors are swallowed so a print() never fails because of the SDK.

Mode choice ("auto"): the native sidecar (`wanllmdb agent`, a later issue) will come first — see
resolve_console_mode(); then "redirect" where the platform has real fds 1/2 (POSIX); else "wrap".

Wrap: sys.stdout/sys.stderr become io.TextIOWrapper objects over a CaptureBuffer that passes
every byte to the original stream's binary buffer and feeds the capture. The text layer stays in
C (print() costs what it cost before; Python runs once per 8 KiB or per line when the original
is line-buffered); a flusher thread flushes every FLUSH_INTERVAL so captured lines stay live. The
wrapper mirrors the original's encoding, errors, line_buffering and write_through; isatty,
fileno, name and reconfigure work as on any text stream. A stream without a binary buffer (e.g. a
notebook's) gets the Python-level TextProxy instead.

Redirect: fd 1 and 2 are dup2'ed onto pipes (pseudo-terminals when the original is a terminal, so
isatty() stays true); a reader thread per fd copies every byte to the saved original fd (the
terminal/file) and feeds the capture. That includes C extensions, os.write and
child processes. sys.stdout stays the original object, switched to line buffering.

Output that must not be captured twice (logging records and tracebacks the SDK uploaded itself)
goes to the bypass streams registered in capture_guard.
"""
from __future__ import annotations

import io
import os
import select
import struct
import sys
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, TextIO, Tuple

try:  # POSIX only; elsewhere "auto" never picks redirect
    import fcntl
    import termios
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]
    termios = None  # type: ignore[assignment]

from . import sdk_stderr
from .capture_channel import open_capture_channel
from .capture_guard import is_suppressed, register_bypass, unregister_bypass
from .line_assembler import LineAssembler
from .notebook_fd import hook_fd_watcher

# Called with (lines, source, timestamp).
LineSink = Callable[[List[str], str, float], None]


class StreamCapture:
    """Assembles the bytes of one stream into lines. Thread-safe (its own lock)."""

    # Text writes are collected until a line end (or this many writes) and assembled together:
    # print("a", b) is several write() calls, and assembling once per line halves the cost.
    _MAX_PENDING_WRITES = 256

    def __init__(self, source: str, sink: LineSink) -> None:
        self.source = source
        self._sink = sink
        self._lock = threading.Lock()
        self._assembler = LineAssembler()
        # Guarded by _lock: text written (wrap mode) but not yet assembled.
        self._pending: List[str] = []

    def feed_text(self, s: str) -> None:
        """A str written to a wrapped stream."""
        try:
            with self._lock:
                pending = self._pending
                pending.append(s)
                if "\n" in s or "\r" in s or len(pending) >= self._MAX_PENDING_WRITES:
                    self._assemble_pending_locked()
        except Exception:
            pass

    def _assemble_pending_locked(self) -> None:
        if self._pending:
            data = "".join(self._pending).encode("utf-8", "surrogatepass")
            self._pending.clear()
            lines = self._assembler.feed(data)
            if lines:
                self._sink(lines, self.source, time.time())

    def feed(self, data: bytes) -> None:
        """Bytes from a pipe or a binary write."""
        try:
            with self._lock:
                self._assemble_pending_locked()
                lines = self._assembler.feed(data)
                # Submitted under the lock: lines of one stream keep their order across threads.
                if lines:
                    self._sink(lines, self.source, time.time())
        except Exception:
            pass

    def flush(self) -> None:
        try:
            with self._lock:
                self._assemble_pending_locked()
                lines = self._assembler.flush()
                if lines:
                    self._sink(lines, self.source, time.time())
        except Exception:
            pass

    def after_fork_child(self) -> None:
        """The child starts with no partial line and a lock nobody holds."""
        self._lock = threading.Lock()
        self._assembler = LineAssembler()
        self._pending = []


FLUSH_INTERVAL = 0.1


class CaptureBuffer(io.BufferedIOBase):
    """The binary layer under a wrapped sys.stdout/sys.stderr: pass-through plus capture.

    Thread-safety: write() may be called from any thread; a lock keeps the pass-through order and
    the capture order the same.
    """

    def __init__(self, original: Any, capture: StreamCapture) -> None:
        super().__init__()
        self._original = original  # the original text stream
        self._capture = capture
        self._lock = threading.Lock()

    def write(self, data: Any) -> int:  # type: ignore[override]
        data = bytes(data)
        with self._lock:
            original = self._original
            # Text written to the original object directly (by holders of the old reference)
            # goes first; then our bytes, below its text layer.
            original.flush()
            original.buffer.write(data)
            if original.line_buffering or getattr(original, "write_through", False):
                original.buffer.flush()
            self._capture.feed(data)
        return len(data)

    def flush(self) -> None:
        if not self.closed:
            # Under the lock like write(): see hold_for_fork().
            with self._lock:
                self._original.flush()

    def hold_for_fork(self) -> None:
        """Called just before fork: the flusher thread must not be inside the original stream's
        BufferedWriter (whose lock the child would inherit held, and block on forever)."""
        self._lock.acquire()

    def release_after_fork(self, in_child: bool) -> None:
        if in_child:
            self._lock = threading.Lock()
        else:
            self._lock.release()

    def close(self) -> None:
        # Closing the wrapper (or its garbage collection) must never close the real stream.
        try:
            self.flush()
        except Exception:
            pass
        super().close()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def isatty(self) -> bool:
        return self._original.isatty()

    def fileno(self) -> int:
        return self._original.fileno()

    @property
    def name(self) -> Any:
        return getattr(self._original, "name", "<wanllmdb>")

    @property
    def raw(self) -> Any:
        return getattr(self._original.buffer, "raw", None)


def wrap_stream(original: Any, capture: StreamCapture) -> Any:
    """A text stream like `original` whose output is also captured (see module doc)."""
    if getattr(original, "buffer", None) is None or not hasattr(original, "line_buffering"):
        return TextProxy(original, capture)
    return io.TextIOWrapper(CaptureBuffer(original, capture), encoding=original.encoding,
                            errors=original.errors, line_buffering=original.line_buffering,
                            write_through=getattr(original, "write_through", False))


class BufferProxy:
    """Stands in for sys.stdout.buffer in wrap mode: binary writes are captured too."""

    def __init__(self, original: Any, capture: StreamCapture) -> None:
        self._wanllmdb_original = original
        self._wanllmdb_capture = capture

    def write(self, data: Any) -> int:
        n = self._wanllmdb_original.write(data)
        if not is_suppressed():
            try:
                self._wanllmdb_capture.feed(bytes(data))
            except Exception:
                pass
        return n

    def writelines(self, lines: Iterable[Any]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wanllmdb_original, name)


class TextProxy:
    """Stands in for sys.stdout / sys.stderr: pass-through, plus capture (wrap) or bypass (redirect).

    Everything not overridden (isatty, encoding, fileno, flush, reconfigure, ...) is the original's.
    """

    def __init__(self, original: TextIO, capture: Optional[StreamCapture],
                 bypass: Optional[Callable[[str], None]] = None) -> None:
        self._wanllmdb_original = original
        self._wanllmdb_capture = capture
        self._wanllmdb_bypass = bypass
        self._wanllmdb_buffer: Optional[BufferProxy] = None
        if capture is not None and getattr(original, "buffer", None) is not None:
            self._wanllmdb_buffer = BufferProxy(original.buffer, capture)

    def write(self, s: str) -> int:
        if is_suppressed():
            bypass = self._wanllmdb_bypass
            if bypass is not None:
                bypass(s)
                return len(s)
            return self._wanllmdb_original.write(s)
        n = self._wanllmdb_original.write(s)
        capture = self._wanllmdb_capture
        if capture is not None:
            capture.feed_text(s)
        return n

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    @property
    def buffer(self) -> Any:
        return self._wanllmdb_buffer if self._wanllmdb_buffer is not None else self._wanllmdb_original.buffer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wanllmdb_original, name)

    def __iter__(self) -> Any:
        return iter(self._wanllmdb_original)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


_COALESCE_BELOW = 16384
_COALESCE_PAUSE = 0.002


class _FdRedirect:
    """Routes one file descriptor through a pipe read by a thread. Thread-safety: start/stop from one thread."""

    def __init__(self, fd: int, capture: StreamCapture) -> None:
        self.fd = fd
        self.capture = capture
        self.saved_fd = os.dup(fd)  # the original destination; non-inheritable
        self._reader: Optional[threading.Thread] = None
        self._read_fd = -1
        self._passthrough_ok = True
        # False from the moment a read returns until its bytes are fed (see drained()).
        self._idle = True

    def start(self) -> None:
        r, w = self._open_channel()
        os.dup2(w, self.fd)  # fd 1/2 stay inheritable, so child processes write into the pipe
        os.close(w)
        self._read_fd = r
        self._reader = threading.Thread(target=self._read_loop, args=(r,), name=f"wanllmdb-fd{self.fd}",
                                        daemon=True)
        self._reader.start()

    def _open_channel(self) -> Tuple[int, int]:
        return open_capture_channel(self.saved_fd)

    def _read_loop(self, r: int) -> None:
        # Wait with poll(), then mark busy, then read: bytes leave the pipe only after _idle is
        # False, so "idle and the pipe is empty" (drained()) can never miss a chunk in flight.
        poller = select.poll()
        poller.register(r, select.POLLIN | select.POLLHUP | select.POLLERR)
        while True:
            self._idle = True
            try:
                poller.poll()
            except InterruptedError:
                continue
            self._idle = False
            try:
                data = os.read(r, 65536)
            except InterruptedError:
                continue
            except OSError:
                break
            if not data:
                break
            if self._passthrough_ok:
                try:
                    _write_all(self.saved_fd, data)
                except OSError:
                    self._passthrough_ok = False  # the terminal went away; keep capturing
            self.capture.feed(data)
            if len(data) < _COALESCE_BELOW:
                # A line-buffered writer sends one line per write; reading each on its own costs
                # Python work per line. A short pause lets the pipe collect a larger chunk (output
                # to the terminal is delayed by at most this much).
                self._idle = True
                time.sleep(_COALESCE_PAUSE)
        try:
            os.close(r)
        except OSError:
            pass

    def drained(self) -> bool:
        """True when every byte written to the pipe so far has been fed to the capture."""
        if not self._idle:
            return False
        try:
            pending = struct.unpack("i", fcntl.ioctl(self._read_fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        except (OSError, ValueError):
            return True
        return pending == 0

    def stop(self, timeout: float) -> None:
        """Puts the original fd back and drains the pipe (EOF once no process holds its write end)."""
        # Drain while the write end is still ours: a pty master may report EIO, not the pending
        # bytes, once the last slave descriptor is closed.
        deadline = time.monotonic() + min(timeout, 1.0)
        while not self.drained() and time.monotonic() < deadline:
            time.sleep(0.001)
        os.dup2(self.saved_fd, self.fd)
        if self._reader is not None:
            self._reader.join(timeout)
        self.capture.flush()


class ConsoleCapture:
    """The installed capture of one process. Thread-safety: install/uninstall from the owning run;
    drain() from any thread."""

    def __init__(self, mode: str, sink: LineSink) -> None:
        self.mode = mode
        self._stdout = StreamCapture("stdout", sink)
        self._stderr = StreamCapture("stderr", sink)
        self._redirects: List[_FdRedirect] = []
        self._originals: Optional[Tuple[Any, Any]] = None
        self._wrapped: List[Any] = []  # wrap mode: our sys.stdout, sys.stderr
        self._bypass: Dict[str, Any] = {}  # "stdout"/"stderr" -> uncaptured stream
        self._registered: List[Any] = []
        self._flusher: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._unhooks: List[Callable[[], None]] = []  # wrap mode in a kernel: notebook_fd hooks

    def install(self) -> None:
        out, err = sys.stdout, sys.stderr
        self._originals = (out, err)
        for stream in (out, err):
            try:
                stream.flush()
            except Exception:
                pass
        if self.mode == "wrap":
            self._wrapped = [wrap_stream(out, self._stdout), wrap_stream(err, self._stderr)]
            for original, capture in ((out, self._stdout), (err, self._stderr)):
                undo = hook_fd_watcher(original, capture.feed_text)
                if undo is not None:
                    self._unhooks.append(undo)
            sys.stdout, sys.stderr = self._wrapped[0], self._wrapped[1]
            self._bypass = {"stdout": out, "stderr": err}
            for wrapped, original in zip(self._wrapped, (out, err)):
                self._register(wrapped, original)
                # A handler made before init() holds the original: what it prints is on the
                # terminal (uncaptured), so it is stored as a record (logging_capture).
                self._register(original, original)
            self._start_flusher()
            return
        # redirect
        self._redirects = [_FdRedirect(1, self._stdout), _FdRedirect(2, self._stderr)]
        for r in self._redirects:
            r.start()
        sdk_stderr.set_terminal_fd(self._redirects[1].saved_fd)
        # A pipe makes stdout block-buffered; line buffering keeps each line live.
        try:
            out.reconfigure(line_buffering=True)
        except Exception:
            pass
        self._bypass = {"stdout": _fd_text_stream(self._redirects[0].saved_fd, out),
                        "stderr": _fd_text_stream(self._redirects[1].saved_fd, err)}
        self._register(out, self._bypass["stdout"])
        self._register(err, self._bypass["stderr"])

    def _register(self, stream: Any, bypass: Any) -> None:
        register_bypass(stream, bypass)
        self._registered.append(stream)

    def bypass_stream(self, source: str) -> Any:
        """A stream to the same destination as sys.stdout/sys.stderr that is not captured."""
        return self._bypass.get(source)

    def _start_flusher(self) -> None:
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="wanllmdb-flush", daemon=True)
        self._flusher.start()

    def _flush_loop(self) -> None:
        """Block-buffered wrapped streams would hold lines for up to 8 KiB; this keeps them live."""
        while not self._stop.wait(FLUSH_INTERVAL):
            self.flush_wrapped()

    def flush_wrapped(self) -> None:
        for stream in self._wrapped:
            try:
                stream.flush()
            except Exception:
                pass

    def drain(self, timeout: float = 0.05) -> None:
        """Waits (bounded) until output already written has been captured.

        Called before a line is submitted directly (a logging record, log_message, a traceback),
        so that it is stored after the prints that came before it rather than overtaking them.
        """
        if self.mode == "wrap":
            self.flush_wrapped()
            return
        if not self._redirects:
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        deadline = time.monotonic() + timeout
        while not all(r.drained() for r in self._redirects):
            if time.monotonic() >= deadline:
                return
            time.sleep(0.0005)

    def uninstall(self, timeout: float = 2.0) -> None:
        if self._originals is None:
            return
        out, err = self._originals
        self._originals = None
        self._stop.set()
        for stream in self._registered:
            unregister_bypass(stream)
        self._registered = []
        for undo in self._unhooks:
            undo()
        self._unhooks = []
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        # Only our own streams are replaced: a stream someone installed over them stays theirs.
        if self._wrapped:
            if sys.stdout is self._wrapped[0]:
                sys.stdout = out
            if sys.stderr is self._wrapped[1]:
                sys.stderr = err
            self._wrapped = []
        deadline = time.monotonic() + timeout
        for r in self._redirects:
            r.stop(max(0.05, deadline - time.monotonic()))
        sdk_stderr.set_terminal_fd(None)
        for r in self._redirects:
            try:
                os.close(r.saved_fd)
            except OSError:
                pass
        self._redirects = []
        self._stdout.flush()
        self._stderr.flush()

    def _capture_buffers(self) -> List[CaptureBuffer]:
        return [b for b in (getattr(s, "buffer", None) for s in self._wrapped) if isinstance(b, CaptureBuffer)]

    def before_fork(self) -> None:
        """Text still buffered in our wrappers would be written twice (parent and child) after fork;
        and no SDK thread may be inside the original stream's locked BufferedWriter at fork."""
        self.flush_wrapped()
        for buffer in self._capture_buffers():
            buffer.hold_for_fork()

    def after_fork_parent(self) -> None:
        for buffer in self._capture_buffers():
            buffer.release_after_fork(in_child=False)

    def after_fork_child(self) -> None:
        self._stdout.after_fork_child()
        self._stderr.after_fork_child()
        if self.mode == "wrap":
            for buffer in self._capture_buffers():
                buffer.release_after_fork(in_child=True)
            self._start_flusher()
            return
        for r in self._redirects:
            try:
                r.start()
            except OSError:
                pass


def _fd_text_stream(fd: int, like: Any) -> Any:
    """An unbuffered text stream on fd (the saved original of fd 1/2), encoded like `like`."""
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding=getattr(like, "encoding", None) or "utf-8",
                            errors=getattr(like, "errors", None) or "strict", write_through=True)


def _agent_available() -> bool:
    """The native sidecar (`wanllmdb agent`, DESIGN §6, agent_capture.py) is used when the binary is
    named by WANLLMDB_BIN or on PATH, and fds 1/2 are real (it takes them over like redirect)."""
    from .agent_capture import find_agent_binary

    return find_agent_binary() is not None and _can_redirect()


def _can_redirect() -> bool:
    if os.name != "posix" or not hasattr(os, "dup2") or fcntl is None:
        return False
    try:
        if sys.stdout is None or sys.stderr is None:
            return False
        if not isinstance(sys.stdout, io.TextIOWrapper) or not isinstance(sys.stderr, io.TextIOWrapper):
            return False  # a notebook's or a library's stream: its output never reaches fds 1/2
        if sys.stdout.fileno() != 1 or sys.stderr.fileno() != 2:
            return False  # e.g. a notebook or a replaced stream: only wrap sees that output
        os.fstat(1)
        os.fstat(2)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    return True


def resolve_console_mode(requested: str) -> str:
    """Maps "auto" to what this process supports; downgrades "redirect" where it is impossible."""
    if requested == "off":
        return "off"
    if requested == "auto":
        if _agent_available():
            return "agent"  # Run falls back to "redirect" if the agent cannot start
        return "redirect" if _can_redirect() else "wrap"
    if requested == "redirect" and not _can_redirect():
        sdk_stderr.say("console='redirect' is not possible here (no real file descriptors 1/2); using 'wrap'")
        return "wrap"
    return requested
