"""The process's current run (wanllmdb.run) and the process-wide hooks that finish it.

Hooks are installed once, on the first init(): atexit (finish as finished, or failed after an
uncaught exception), sys.excepthook / threading.excepthook (store the traceback as ERROR lines),
os.register_at_fork (a fork child becomes writer pid-N with its own uploader).
"""
from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import traceback
from typing import Any, Iterator, Optional

from . import capture_guard, logging_capture, sdk_stderr
from .capture_guard import suppressed

_lock = threading.RLock()
_current: Optional[Any] = None  # Run or DisabledRun
_hooks_installed = False
_prev_excepthook: Any = None
_prev_thread_excepthook: Any = None


def _publish(run: Optional[Any]) -> None:
    pkg = sys.modules.get("wanllmdb")
    if pkg is not None:
        pkg.run = run  # type: ignore[attr-defined]


def get() -> Optional[Any]:
    return _current


def set_current(run: Any) -> None:
    global _current
    with _lock:
        _current = run
        _publish(run)
        if run is not None and run.mode != "disabled":
            _install_hooks()


def forget(run: Any) -> None:
    """Called by a run as it finishes: it stops being wanllmdb.run."""
    global _current
    with _lock:
        if _current is run:
            _current = None
            _publish(None)


def _live_run() -> Optional[Any]:
    run = _current
    if run is None or run.mode == "disabled" or run.finished:
        return None
    return run


@contextlib.contextmanager
def _uncaptured_stderr(run: Optional[Any]) -> Iterator[None]:
    """While a traceback the SDK stored itself is printed: stderr reaches the terminal uncaptured."""
    capture = getattr(run, "_capture", None) if run is not None else None
    bypass = capture.bypass_stream("stderr") if capture is not None else None
    saved = sys.stderr
    if bypass is not None:
        try:
            saved.flush()
        except Exception:
            pass
        sys.stderr = bypass
    try:
        with suppressed():
            yield
    finally:
        if bypass is not None and sys.stderr is bypass:
            sys.stderr = saved


def _excepthook(exc_type: Any, exc: Any, tb: Any) -> None:
    run = _live_run()
    if run is not None:
        try:
            run.record_exception("".join(traceback.format_exception(exc_type, exc, tb)))
        except Exception:
            pass
    # The traceback still reaches the terminal, but is not captured a second time.
    with _uncaptured_stderr(run):
        (_prev_excepthook or sys.__excepthook__)(exc_type, exc, tb)


def _thread_excepthook(args: Any) -> None:
    run = _live_run()
    if run is not None and args.exc_type is not SystemExit:
        try:
            name = args.thread.name if args.thread is not None else "?"
            text = f"Exception in thread {name}:\n" + "".join(
                traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
            run.record_exception(text)
        except Exception:
            pass
        with _uncaptured_stderr(run):
            (_prev_thread_excepthook or getattr(threading, "__excepthook__"))(args)
        return
    (_prev_thread_excepthook or getattr(threading, "__excepthook__"))(args)


def _at_exit() -> None:
    run = _live_run()
    if run is not None and run._pid == os.getpid():
        run._finish_at_exit()


def _before_fork() -> None:
    run = _live_run()
    capture = getattr(run, "_capture", None) if run is not None else None
    if capture is not None:
        try:
            capture.before_fork()
        except Exception:
            pass


def _after_fork_child() -> None:
    sdk_stderr.reset_after_fork()
    capture_guard.reset_after_fork()
    logging_capture.reset_after_fork()
    global _lock
    _lock = threading.RLock()
    run = _live_run()
    if run is not None:
        try:
            run._after_fork_child()
        except Exception as e:
            sdk_stderr.say(f"cannot set up capture in the fork child: {e!r}")


def _install_hooks() -> None:
    global _hooks_installed, _prev_excepthook, _prev_thread_excepthook
    if _hooks_installed:
        return
    _hooks_installed = True
    _prev_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    _prev_thread_excepthook = threading.excepthook
    threading.excepthook = _thread_excepthook
    atexit.register(_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_child)


