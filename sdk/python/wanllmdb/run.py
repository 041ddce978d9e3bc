"""Run: one process's handle on a run — creation, capture, logging, finish.

Thread-safety: log_message() may be called from any thread; finish() is idempotent and may race
with the exit hooks (a lock makes one of them win).
"""
from __future__ import annotations

import os
import sys
import threading
import time
import traceback
import urllib.parse
from typing import Any, Optional

from . import logging_capture, sdk_stderr, structured
from .agent_capture import AgentCapture, AgentRouted, find_agent_binary
from .api_client import ApiClient, TransportError
from .console_capture import ConsoleCapture, resolve_console_mode
from .settings import LEVELS, Settings, joined_writer_name
from .spool import RunSpool
from .uploader import Uploader, fresh_seq_base

INIT_TIMEOUT = 5.0  # the synchronous POST /runs at init; a slow server must not stall the script
ANNOUNCE_AFTER = 1.0  # say on stderr what the exit flush waits for once it takes this long


class Run:
    """A live run of this process (online or offline)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._run_body = settings.run_body()  # the POST /runs body (the project may be learned at start)
        self.id: str = settings.run_id
        self.project: str = settings.project
        self.name: Optional[str] = settings.name
        self.url: str = settings.run_url
        self.mode: str = settings.mode
        self.writer = "main"
        # Whether this process sets the run's final state (the creator, or rank 0).
        self._owner = True
        self._lock = threading.Lock()
        self._finished = False
        self._failed = False
        # A SIGTERM that arrived while finishing: re-raised once the finish is done.
        self._kill_after_finish: Optional[int] = None
        self._uploader: Optional[Uploader] = None
        self._capture: Optional[ConsoleCapture] = None
        self._pid = os.getpid()
        # console="agent": the native sidecar that captures fds 1/2 (agent_capture.py).
        self._agent: Optional[AgentCapture] = None
        # A fork child of an fd-level capture: the SDK stays out of its way (_after_fork_child).
        self._detached = False
        self._detached_used = False  # log_message() was called there: flush at its exit

    # ---- start ----

    def _start(self) -> None:
        s = self._settings
        created_here: Optional[bool] = None  # None: unknown (offline or unreachable)
        run_created = False
        unreachable = False  # the server gave no reply at all
        if s.mode == "online":
            client = ApiClient(s.base_url, s.api_key, timeout=INIT_TIMEOUT)
            try:
                if s.joining and not s.project_given:
                    # A process joining by WANLLMDB_RUN_ID need not know the project: ask.
                    got = client.request("GET", "/runs/" + urllib.parse.quote(s.run_id))
                    if got.ok and isinstance(got.body, dict) and isinstance(got.body.get("project"), str):
                        self.project = self._run_body["project"] = got.body["project"]
                resp = client.create_run(self._run_body)
                if resp.ok:
                    run_created = True
                    created_here = resp.status == 201
                    if isinstance(resp.body, dict):
                        self.name = resp.body.get("name") or self.name
                elif not resp.retryable:
                    sdk_stderr.say(f"the server refused to create run {s.run_id} ({resp.error_text()}); "
                                   f"output goes to the spool in {s.spool_dir}", once_key="create-refused")
                else:
                    self._warn_unreachable(resp.error_text())
            except TransportError as e:
                unreachable = True
                self._warn_unreachable(str(e))
            finally:
                client.close()
        if s.joining or created_here is False:
            self.writer = joined_writer_name(s.writer_env, os.getpid())
            self._owner = bool(created_here) or self.writer == "rank-0"
        if self.name is None:
            self.name = self.id[:8]
        # seq 0, 1, 2, ... for the writer that certainly created the run (a new client-side id, or
        # the server answered 201); any other writer name may have been used in this run before.
        fresh_run = self.writer == "main" and (created_here is True or s.generated_id)
        self._uploader = Uploader(run_body=self._run_body, writer=self.writer, base_url=s.base_url,
                                  api_key=s.api_key, spool_root=s.spool_dir, offline=s.mode == "offline",
                                  run_created=run_created, first_seq=0 if fresh_run else fresh_seq_base())
        if unreachable:
            self._uploader.note_unreachable()
        if s.capture_logs:
            logging_capture.install(self._on_log_record)
        console = resolve_console_mode(s.console)
        if console == "agent":
            console = self._start_agent(first_seq=0 if fresh_run else fresh_seq_base())
        if console != "agent" and s.mode == "online":
            self._uploader.ensure_started()  # its heartbeat keeps a quiet run from being swept as crashed
        if console in ("wrap", "redirect"):
            capture = ConsoleCapture(console, self._uploader.submit_lines)
            try:
                capture.install()
                self._capture = capture
            except Exception as e:
                try:
                    capture.uninstall()  # whatever part was installed
                except Exception:
                    pass
                sdk_stderr.say(f"cannot capture the console ({console}: {e}); continuing without capture")
        self._register_multiprocessing_hook()
        self._hook_notebook_tracebacks()

    def _start_agent(self, first_seq: int) -> str:
        """Starts the native sidecar; returns "agent", or "redirect" when it cannot run here."""
        s = self._settings
        binary = find_agent_binary()
        if binary is None or s.mode != "online":
            return "redirect"
        agent = AgentCapture(binary, run_id=self.id, run_body=self._run_body, base_url=s.base_url,
                             api_key=s.api_key, spool_dir=s.spool_dir, writer=self.writer, first_seq=first_seq,
                             exit_timeout=s.exit_timeout, sets_state=self._owner)
        try:
            agent.install()
        except Exception as e:
            sdk_stderr.say(f"cannot start the capture agent {binary} ({e}); capturing in-process instead")
            return "redirect"
        self._agent = agent
        self._capture = agent  # type: ignore[assignment]  # same surface: drain, bypass, uninstall, fork hooks
        self._uploader = AgentRouted(self._uploader, agent)  # type: ignore[assignment]
        return "agent"

    def _finish_agent(self, state: str, exit_code: int, timeout: float) -> None:
        """The agent uploads what is left and sets the state (when this process may)."""
        assert self._agent is not None
        sets_state = self._owner or state == "failed"
        if not self._agent.finish(state if sets_state else None, exit_code, timeout):
            s = self._settings
            sdk_stderr.say(f"the capture agent could not confirm that every line reached {s.base_url}; what is "
                           f"left is kept in {s.spool_dir}; upload it with: wanllmdb sync {s.spool_dir}")

    def _warn_unreachable(self, why: str) -> None:
        sdk_stderr.say(f"cannot reach {self._settings.base_url} ({why}); the run goes on, its output is kept in "
                       f"{self._settings.spool_dir} and uploaded when the server is back",
                       once_key="unreachable")

    def _hook_notebook_tracebacks(self) -> None:
        """In a Jupyter kernel a cell's error is shown as an "error" message, not through
        sys.stderr or sys.excepthook: store the traceback the notebook shows (ERROR, stderr).
        The kernel goes on, and so does the run."""
        ipython = sys.modules.get("IPython")
        get = getattr(ipython, "get_ipython", None) if ipython is not None else None
        shell = get() if get is not None else None
        show = getattr(shell, "_showtraceback", None)
        if show is None or getattr(show, "_wanllmdb", False):
            return
        run = self

        def _showtraceback(etype: Any, evalue: Any, stb: Any) -> Any:
            if not run._finished:
                try:
                    run._drain_capture()
                    lines = "\n".join(stb).split("\n")
                    uploader = run._uploader
                    if uploader is not None:
                        uploader.submit_lines(lines, "stderr", time.time(), "ERROR")
                except Exception:
                    pass
            return show(etype, evalue, stb)

        _showtraceback._wanllmdb = True  # type: ignore[attr-defined]
        try:
            shell._showtraceback = _showtraceback
        except Exception:
            pass

    def _register_multiprocessing_hook(self) -> None:
        """multiprocessing's fork children end with os._exit (no atexit): flush through its finalizers."""
        try:
            import multiprocessing.util as mp_util

            mp_util.register_after_fork(self, Run._after_mp_fork)
        except Exception:
            pass

    @staticmethod
    def _after_mp_fork(run: "Run") -> None:
        if run._detached:
            return  # nothing of ours to flush there (unless log_message() is called: see there)
        import multiprocessing.util as mp_util

        mp_util.Finalize(None, run._finish_at_exit, exitpriority=100)

    # ---- user API ----

    def log_message(self, text: str, level: str = "INFO", **fields: Any) -> None:
        """Stores a message with source "user" (several lines if it contains newlines).

        `level` is one of DEBUG, INFO, WARNING, ERROR, CRITICAL or a custom name (SUCCESS, TRACE,
        NOTICE: kept as the line's level_name and mapped onto the canonical five). Keyword
        arguments are the line's fields: `run.log_message("eval", loss=1.5, step=100)` can then
        be filtered with `field.loss>1.5`. A bad level is stored as INFO with one warning: only
        init() raises into user code.
        """
        if not structured.valid_level_name(level):
            sdk_stderr.say(f"log_message: level must be one of {', '.join(LEVELS)} or a custom name of "
                           f"letters, digits, '_' and '-', got {level!r}; using INFO", once_key="bad-level")
            level = "INFO"
        extra = structured.extra_members(level, fields)
        canonical = structured.canonical_level(level)
        uploader = self._uploader
        if uploader is None or self._finished:
            return
        if self._detached and not self._detached_used:
            self._detached_used = True
            self._flush_detached_at_exit()
        self._drain_capture()
        # Each line of the message carries its level name and fields.
        uploader.submit_lines(str(text).split("\n"), "user", time.time(), canonical, extra)

    def _flush_detached_at_exit(self) -> None:
        """A fork child that uses the run explicitly flushes its own lines when it ends."""
        try:
            import multiprocessing.util as mp_util

            mp_util.Finalize(None, self._finish_at_exit, exitpriority=100)  # mp children skip atexit
        except Exception:
            pass

    def _drain_capture(self) -> None:
        """Lets prints still in the redirect pipes arrive first, so lines keep their order."""
        capture = self._capture
        if capture is not None:
            try:
                capture.drain()
            except Exception:
                pass

    def _on_log_record(self, message: str, level: str, created: float, extra: str = "") -> None:
        uploader = self._uploader
        if uploader is not None and not self._finished:
            self._drain_capture()
            # One stored line per text line (a traceback is many), each with its own seq and the
            # record's fields.
            uploader.submit_lines(message.split("\n"), "user", created, level, extra)

    def record_exception(self, text: str) -> None:
        """An uncaught exception: its traceback becomes ERROR lines and the run ends as failed."""
        self._failed = True
        uploader = self._uploader
        if uploader is not None and not self._finished:
            self._drain_capture()
            uploader.submit_lines(text.rstrip("\n").split("\n"), "stderr", time.time(), "ERROR")

    def finish(self, exit_code: int = 0) -> None:
        """Flushes everything and records the run's end: finished (exit code 0) or failed."""
        if not isinstance(exit_code, int) or isinstance(exit_code, bool):
            sdk_stderr.say(f"finish: exit_code must be an int, got {exit_code!r}; using 1", once_key="bad-exit-code")
            exit_code = 1
        try:
            self._finish(exit_code, self._settings.exit_timeout)
        except Exception as e:
            sdk_stderr.say(f"error while finishing the run: {e!r}")

    def _finish_at_exit(self) -> None:
        from . import current_run  # imports run.py itself

        code = current_run.exit_code_hint()
        if code is None or (code == 0 and self._failed):
            code = 1 if self._failed else 0
        self.finish(code)

    def _finish_killed(self, signum: int) -> None:
        """The process is being terminated by a signal: flush, and record the run as crashed.

        Runs on a helper thread (the interrupted thread may hold an SDK lock).
        """
        try:
            self._finish(128 + signum, self._settings.exit_timeout, state="crashed")
        except Exception:
            pass

    def _cap_finish(self, seconds: float) -> None:
        """A finish under way must end within `seconds` (a SIGTERM arrived). Lock-free."""
        if self._uploader is not None:
            self._uploader.cap_deadline(seconds)

    def _finish(self, exit_code: int, timeout: float, state: Optional[str] = None) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
        from . import current_run

        current_run.forget(self)
        try:
            self._finish_steps(exit_code, timeout, state)
        finally:
            current_run.finished(self)

    def _finish_steps(self, exit_code: int, timeout: float, state: Optional[str]) -> None:
        if self._detached:
            # The capture belongs to the parent; only lines this child logged itself are ours.
            if self._detached_used and self._uploader is not None:
                self._uploader.close(timeout, announce_after=ANNOUNCE_AFTER)
            return
        uploader = self._uploader
        assert uploader is not None
        if state is None:
            state = "finished" if exit_code == 0 and not self._failed else "failed"
        if exit_code == 0 and self._failed:
            exit_code = 1
        if state == "failed" and not self._owner:
            # This process joined the run (a rank): its failure fails the run; say whose it was.
            # Sent while the capture is still in place, so it comes after everything printed.
            uploader.submit_lines([f"{self.writer} failed (exit code {exit_code}): the run is marked failed"],
                                  "system", time.time(), "ERROR")
        if self._settings.capture_logs:
            logging_capture.uninstall()
        if self._capture is not None:
            self._capture.uninstall()
            self._capture = None
        if self._agent is not None and self._agent.owner:
            self._finish_agent(state, exit_code, timeout)
            return
        ok = uploader.close(timeout, announce_after=ANNOUNCE_AFTER)
        s = self._settings
        spool = RunSpool(s.spool_dir, self._run_body)
        owner_sets_state = self._owner or state == "failed"  # a killed helper process does not end the run
        if s.mode == "offline":
            if owner_sets_state:
                spool.write_final(state, exit_code)
            sdk_stderr.say(f"offline run saved in {spool.dir}; upload it with: python -m wanllmdb sync {spool.dir}")
            return
        patched = False
        if owner_sets_state and not uploader.never_reached:
            client = ApiClient(s.base_url, s.api_key, timeout=INIT_TIMEOUT)
            try:
                patched = client.set_run_state(self.id, state, exit_code).ok
            except TransportError:
                patched = False
            finally:
                client.close()
        if owner_sets_state:
            if not patched or not ok:
                try:
                    spool.write_final(state, exit_code)
                except OSError:
                    pass
        if not ok:
            sdk_stderr.say(f"{uploader.pending_lines()} lines were not uploaded; they are kept in {spool.dir}; "
                           f"upload them with: python -m wanllmdb sync {spool.dir}")
        elif owner_sets_state and not patched:
            sdk_stderr.say(f"the run's end could not be recorded on {s.base_url}; it is kept in {spool.dir}; "
                           f"upload it with: python -m wanllmdb sync {spool.dir}")

    def _after_fork_child(self) -> None:
        """A fork child. With an fd-level capture (agent, redirect) the child's fds 1/2 still lead
        into it: everything the child prints — its `logging` records too, printed by their
        handlers as without the SDK — is captured there, in order and crash-safe. So the SDK
        steps aside in the child (no thread, no hook, no exit flush; DESIGN §6). In wrap mode
        nothing is shared at the fd level: the child writes into the run as its own writer pid-N."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self.writer = joined_writer_name({}, os.getpid())
        self._owner = False
        if self._agent is not None or getattr(self._capture, "mode", None) == "redirect":
            self._detached = True
            if self._settings.capture_logs:
                logging_capture.uninstall()
            if self._uploader is not None:
                self._uploader.after_fork_child(self.writer)  # only for explicit log_message()
            return
        if self._uploader is not None:
            self._uploader.after_fork_child(self.writer)
        if self._capture is not None:
            self._capture.after_fork_child()

    @property
    def finished(self) -> bool:
        return self._finished

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and not issubclass(exc_type, GeneratorExit):
            self.record_exception("".join(traceback.format_exception(exc_type, exc, tb)))
            self.finish(1)
        else:
            self.finish(0)

    def __repr__(self) -> str:
        return f"<wanllmdb.Run id={self.id} name={self.name!r} url={self.url}>"


class DisabledRun:
    """mode="disabled": the same surface, every call a cheap no-op; nothing is started or written."""

    def __init__(self, settings: Optional[Settings] = None) -> None:
        self.id: str = settings.run_id if settings else "disabled"
        self.project: str = settings.project if settings else ""
        self.name: Optional[str] = settings.name if settings else None
        self.url: str = settings.run_url if settings else ""
        self.mode = "disabled"
        self.writer = "main"
        self.finished = False

    def log_message(self, text: str, level: str = "INFO", **fields: Any) -> None:
        pass

    def finish(self, exit_code: int = 0) -> None:
        self.finished = True
        from . import current_run

        current_run.forget(self)

    def __enter__(self) -> "DisabledRun":
        return self

    def __exit__(self, *args: Any) -> None:
        self.finish()

    def __repr__(self) -> str:
        return f"<wanllmdb.DisabledRun id={self.id}>"
