"""console="agent": the script's fds 1 and 2 go to the native sidecar `wanllmdb agent`.

Why: capture inside the script dies with it. The sidecar is another process (C++, no GIL): when
the script is SIGKILLed, segfaults or is OOM-killed, every byte it had written is still in the
pipes, and the sidecar drains, uploads it and marks the run crashed. Output of C extensions and
child processes is captured too, since it is fds 1/2 that are redirected.

Protocol (doc/capture.md is the normative description):

* Channels: for each of fds 1 and 2 a pipe, or a pseudo-terminal when the original is a terminal
  (isatty stays true, colours and progress bars keep working); a control pipe (SDK → agent) and a
  status pipe (agent → SDK). The agent inherits the read ends / pty masters and the original fds
  1/2 as its own stdout/stderr, where it tees the output. It runs in its own session, so the
  terminal's Ctrl-C does not reach it.
* The agent writes "ready\\n" on the status pipe once it captures; only then are fds 1/2 switched.
* Control messages are JSON lines: {"type": "lines", "source", "level"?, "timestamp", "messages",
  "sync", "marked"} (logging records, log_message, tracebacks: stored in order with the prints,
  one seq space) and {"type": "finish", "state", "exit_code"}. Ordering by sync markers
  (src/capture/sync_marker.h): after the message the SDK writes the marker for its "sync" number
  into fds 1 and 2 (those still leading to the agent: "marked"); the agent stores the message
  once it has read up to the marker on each, and strips the markers. No waiting on this side, and
  it holds on a pty, where "the channel is empty" can be true before the bytes arrive.
* "finish" (sent after fds 1/2 are restored): the agent drains, uploads, PATCHes the state and
  answers "done ok\\n" or "done spooled\\n". No finish (EOF on the control pipe, or the script's pid
  is no longer the agent's parent): the agent drains and marks the run crashed.

Thread-safety: submit_lines() from any thread (a lock keeps control messages whole); the rest
from the owning run. In a fork child every method is a no-op (the child has its own uploader).
"""
from __future__ import annotations

import io
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from . import native, sdk_stderr
from .capture_channel import open_capture_channel
from .capture_guard import register_bypass, unregister_bypass
from .spool import RunSpool

try:
    import fcntl
    import termios
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]
    termios = None  # type: ignore[assignment]

READY_TIMEOUT = 5.0
_MARKER = "\x1b_wanllmdb-sync:%d\x1b\\"


def find_agent_binary() -> Optional[str]:
    """The native binary (native.py: WANLLMDB_BIN, the wheel's bundled one, PATH) or None, after
    saying once on stderr how to get it."""
    return native.find_binary(explain_if_missing=True)


def _file_id(fd: int) -> Tuple[int, int]:
    try:
        st = os.fstat(fd)
    except OSError:
        return (-1, -1)
    return (st.st_dev, st.st_ino)


def _fd_text_stream(fd: int, like: Any) -> Any:
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding=getattr(like, "encoding", None) or "utf-8",
                            errors=getattr(like, "errors", None) or "strict", write_through=True)


class AgentCapture:
    mode = "agent"

    def __init__(self, binary: str, *, run_id: str, run_body: Dict[str, Any], base_url: str,
                 api_key: Optional[str], spool_dir: str, writer: str, first_seq: int, exit_timeout: float,
                 sets_state: bool) -> None:
        self._binary = binary
        # The run body travels as the spool's run.json (a config may exceed an argv string's limit).
        self._run_spool = RunSpool(spool_dir, run_body)
        self._args = ["--run-id", run_id, "--server", base_url,
                      "--spool", spool_dir, "--writer", writer, "--first-seq", str(first_seq),
                      "--exit-timeout", str(exit_timeout)]
        if not sets_state:
            self._args.append("--no-state")
        self._api_key = api_key
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._proc: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
        self._saved: List[int] = []  # original fds 1, 2
        # Our dups of the agent's read ends (pipe read end or pty master): FIONREAD on them tells
        # whether the agent has read everything; and if the agent dies, writes to fds 1/2 do not
        # fail (EPIPE/EIO into the user's print()) before the watchdog has put the originals back.
        self._probes: List[int] = []
        self._watchdog: Optional[threading.Thread] = None
        self._control = -1
        self._status = -1
        self._installed = False
        self._finished = False
        self._sync = 0  # the last sync number sent; guarded by _lock
        self._channel_ids: List[Tuple[int, int]] = []  # (st_dev, st_ino) of the write ends
        self._bypass: Dict[str, Any] = {}
        self._registered: List[Any] = []

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def owner(self) -> bool:
        """False in a fork child: the agent belongs to the process that started it."""
        return os.getpid() == self._pid

    # ---- start ----

    def install(self) -> None:
        """Starts the agent and points fds 1/2 at it. Raises OSError when that is not possible
        (the caller falls back to the in-process capture); then nothing is changed."""
        out, err = sys.stdout, sys.stderr
        for stream in (out, err):
            try:
                stream.flush()
            except Exception:
                pass
        opened: List[int] = []
        self._run_spool.ensure()
        try:
            self._saved = [os.dup(1), os.dup(2)]
            opened += self._saved
            r1, w1 = open_capture_channel(self._saved[0])
            r2, w2 = open_capture_channel(self._saved[1])
            ctl_r, ctl_w = os.pipe()
            st_r, st_w = os.pipe()
            opened += [r1, w1, r2, w2, ctl_r, ctl_w, st_r, st_w]
            env = dict(os.environ)
            if self._api_key:
                env["WANLLMDB_API_KEY"] = self._api_key
            self._proc = subprocess.Popen(
                [self._binary, "agent", *self._args, "--stdout-fd", str(r1), "--stderr-fd", str(r2),
                 "--control-fd", str(ctl_r), "--status-fd", str(st_w), "--parent-pid", str(os.getpid())],
                pass_fds=(r1, r2, ctl_r, st_w), stdin=subprocess.DEVNULL, stdout=self._saved[0],
                stderr=self._saved[1], start_new_session=True, env=env)
            self._probes = [os.dup(r1), os.dup(r2)]
            opened += self._probes
            for fd in (r1, r2, ctl_r, st_w):
                os.close(fd)
                opened.remove(fd)
            self._control, self._status = ctl_w, st_r
            reply = self._read_status(READY_TIMEOUT)
            if reply != "ready":
                raise OSError(f"the agent did not start ({reply or 'no answer'})")
            self._channel_ids = [_file_id(w1), _file_id(w2)]
            os.dup2(w1, 1)  # fds 1/2 stay inheritable: child processes write into the agent too
            os.dup2(w2, 2)
            os.close(w1)
            os.close(w2)
        except BaseException:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            for fd in opened:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._saved = []
            self._probes = []
            raise
        self._installed = True
        self._watchdog = threading.Thread(target=self._watch, name="wanllmdb-agent-watchdog", daemon=True)
        self._watchdog.start()
        sdk_stderr.set_terminal_fd(self._saved[1])
        # A pipe makes stdout block-buffered. Line buffering sends every print to the agent at
        # once, so a SIGKILL or segfault loses no printed line, also when stdout is a file (batch
        # jobs): crash safety is the point of the sidecar. (Block buffering with a periodic
        # flush was 3x faster on a flood of prints, but lost up to 100 ms of them on SIGKILL.)
        try:
            out.reconfigure(line_buffering=True)
        except Exception:
            pass
        self._bypass = {"stdout": _fd_text_stream(self._saved[0], out),
                        "stderr": _fd_text_stream(self._saved[1], err)}
        for stream, source in ((out, "stdout"), (err, "stderr")):
            register_bypass(stream, self._bypass[source])
            self._registered.append(stream)

    def _read_status(self, timeout: float) -> str:
        """One line from the agent's status pipe, or "" on timeout/EOF."""
        data = b""
        deadline = time.monotonic() + timeout
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([self._status], [], [], remaining)
            if not ready:
                break
            chunk = os.read(self._status, 256)
            if not chunk:
                break
            data += chunk
        return data.decode("utf-8", "replace").strip()

    # ---- lines the SDK produces itself ----

    def submit_lines(self, messages: List[str], source: str, timestamp: float, level: Optional[str] = None,
                     extra: str = "") -> None:
        """`extra`: structured.extra_members() of the lines (level_name, fields)."""
        if not messages or not self.owner or self._finished:
            return
        try:
            self._flush_streams()
            msg: Dict[str, Any] = {"type": "lines", "source": source, "timestamp": timestamp, "messages": messages}
            if level is not None:
                msg["level"] = level
            if extra:
                msg["extra"] = json.loads("{" + extra[1:] + "}")
            with self._lock:
                self._sync += 1
                # Only fds still leading to the agent get a marker: one the script pointed
                # elsewhere (a file, the terminal) must not receive it.
                marked = [fd for fd, ident in zip((1, 2), self._channel_ids)
                          if self._installed and _file_id(fd) == ident]
                msg["sync"] = self._sync
                msg["marked"] = marked
                self._send_locked(msg)
                marker = (_MARKER % self._sync).encode("ascii")
                for fd in marked:
                    os.write(fd, marker)  # a few bytes: one atomic write
        except Exception:
            pass  # never into the user's code

    def _send(self, msg: Dict[str, Any]) -> None:
        with self._lock:
            self._send_locked(msg)

    def _send_locked(self, msg: Dict[str, Any]) -> None:
        data = (json.dumps(msg, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            n = os.write(self._control, view)
            view = view[n:]

    @staticmethod
    def _flush_streams() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass

    def drain(self, timeout: float = 0.05) -> None:
        """Text still in Python's buffers goes to the agent. Ordering needs no more than that: each
        SDK line carries a sync marker (see submit_lines)."""
        self._flush_streams()

    def _wait_read(self, timeout: float) -> None:
        """Waits (bounded) until the agent has read what is in the channels (before fds 1/2 are
        put back: after that, the agent reads the rest on its own)."""
        deadline = time.monotonic() + timeout
        while any(self._unread(p) for p in self._probes) and time.monotonic() < deadline:
            time.sleep(0.0005)

    @staticmethod
    def _unread(fd: int) -> int:
        try:
            return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        except (OSError, ValueError, AttributeError):
            return 0

    def bypass_stream(self, source: str) -> Any:
        return self._bypass.get(source)

    # ---- end ----

    def uninstall(self, timeout: float = 2.0) -> None:
        """Puts the original fds 1/2 back (the agent keeps what was written before)."""
        if not self._installed or not self.owner:
            return
        self._installed = False
        for stream in self._registered:
            unregister_bypass(stream)
        self._registered = []
        self.drain()
        self._wait_read(0.05)
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        sdk_stderr.set_terminal_fd(None)

    def finish(self, state: Optional[str], exit_code: Optional[int], timeout: float) -> bool:
        """Ends the capture: the agent uploads everything and (if state) sets the run's state.
        Returns False when it could not confirm that everything reached the server in time."""
        if not self.owner or self._finished:
            return True
        self.uninstall()
        self._finished = True
        ok = False
        try:
            self._send({"type": "finish", "state": state, "exit_code": exit_code})
            reply = self._read_status(timeout + 5.0)
            ok = reply == "done ok"
            if not reply:
                sdk_stderr.say("the capture agent is still uploading; it carries on in the background")
        except OSError as e:
            sdk_stderr.say(f"cannot reach the capture agent ({e})")
        for fd in [self._control, self._status, *self._saved, *self._probes]:
            try:
                os.close(fd)
            except OSError:
                pass
        self._saved = []
        self._probes = []
        if ok and self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except Exception:
                pass
        return ok

    def _watch(self) -> None:
        """If the agent dies while capturing (a bug, an OOM kill), the script must go on: fds 1/2
        get their originals back and what the agent had not read yet is shown there."""
        proc = self._proc
        while proc is not None and self._installed and self.owner:
            try:
                proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            except Exception:
                return
            if not self._installed or self._finished:
                return
            try:
                self.uninstall()
                for probe, saved in zip(self._probes, (1, 2)):
                    os.set_blocking(probe, False)
                    while True:
                        try:
                            data = os.read(probe, 65536)
                        except OSError:
                            break
                        if not data:
                            break
                        os.write(saved, data)
            except Exception:
                pass
            sdk_stderr.say(f"the capture agent exited unexpectedly (status {proc.returncode}); "
                           "output is no longer captured")
            return

    def before_fork(self) -> None:
        self.drain()

    def after_fork_parent(self) -> None:
        pass

    def after_fork_child(self) -> None:
        self._lock = threading.Lock()


class AgentRouted:
    """The run's uploader, with submit_lines() sent to the agent while this process owns it (one
    seq space, crash-proof, in order with the prints); everything else is the uploader's (a fork
    child uses it as its own writer)."""

    def __init__(self, uploader: Any, agent: AgentCapture) -> None:
        self._wanllmdb_uploader = uploader
        self._wanllmdb_agent = agent

    def submit_lines(self, messages: List[str], source: str, timestamp: float, level: Optional[str] = None,
                     extra: str = "") -> None:
        agent = self._wanllmdb_agent
        if agent.owner and not agent.finished:
            agent.submit_lines(messages, source, timestamp, level, extra)
        else:
            self._wanllmdb_uploader.submit_lines(messages, source, timestamp, level, extra)

    def submit(self, message: str, source: str, level: Optional[str] = None,
               timestamp: Optional[float] = None) -> None:
        self.submit_lines([message], source, time.time() if timestamp is None else timestamp, level)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wanllmdb_uploader, name)
