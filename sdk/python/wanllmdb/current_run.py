"""The process's current run (wanllmdb.run) and the process-wide hooks that finish it.

Hooks are installed once, on the first init(): atexit (finish as finished, or failed after an
uncaught exception), sys.excepthook / threading.excepthook (store the traceback as ERROR lines),
os.register_at_fork (a fork child becomes writer pid-N with its own uploader).

SIGTERM (while a run is live, in the process that started it, and only where the process left
SIGTERM at its default): the run is flushed for at most SIGTERM_FLUSH_TIMEOUT and marked crashed,
then the process dies of SIGTERM as it would have. Schedulers stop jobs this way.

Fork children inherit none of it (DESIGN §6 "capture never changes the program"): the handler is
put back to the default in the child. multiprocessing.Pool.terminate() SIGTERMs its workers and
waits for them; a worker that inherited a Python-level handler loses a SIGTERM that arrives before
its at-fork hooks ran (CPython clears the signals tripped in a fork child), lives on, and the
terminate() waits forever. So SIGTERM is blocked in the forking thread across fork(): the child
sets the default disposition first, then unblocks, and a SIGTERM sent meanwhile kills it as it
would have without the SDK. What a child prints is captured through the fds 1/2 it
inherited (agent, redirect) or by its own writer (wrap): see Run._after_fork_child.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import traceback
from typing import Any, Iterator, Optional

from . import capture_guard, logging_capture, sdk_stderr
from .capture_guard import suppressed

SIGTERM_FLUSH_TIMEOUT = 5.0

_lock = threading.RLock()
_current: Optional[Any] = None  # Run or DisabledRun
_sigterm_run: Optional[Any] = None  # the run the SIGTERM handler finishes (also while it finishes)
_hooks_installed = False
_prev_excepthook: Any = None
_prev_thread_excepthook: Any = None
_orig_sys_exit: Any = None
_exit_code: Optional[int] = None  # what the script passed to sys.exit(), if it called it


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
            _install_sigterm_handler()


def forget(run: Any) -> None:
    """Called by a run as it finishes: it stops being wanllmdb.run."""
    global _current
    with _lock:
        if _current is run:
            _current = None
            _publish(None)


def finished(run: Any) -> None:
    """Called by a run when its finish is complete: SIGTERM goes back to its default, and a SIGTERM
    that arrived during the finish (see _on_sigterm) now ends the process."""
    global _sigterm_run
    with _lock:
        if _sigterm_run is run and _current is None:
            _sigterm_run = None
            _remove_sigterm_handler()
    signum = getattr(run, "_kill_after_finish", None)
    if signum is not None and run._pid == os.getpid():
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _install_sigterm_handler() -> None:
    global _sigterm_run
    _sigterm_run = _current
    try:
        if threading.current_thread() is not threading.main_thread():
            return  # signal.signal works only there; the run goes on without it
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError, AttributeError):
        pass


def _remove_sigterm_handler() -> None:
    try:
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) is _on_sigterm):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError, AttributeError):
        pass


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signum, signal.SIG_DFL)
    # The run may already be finishing (atexit, a multiprocessing finalizer) on the thread this
    # handler interrupted: _finish_killed then waits for the upload that is under way.
    run = _sigterm_run
    if run is not None and run._pid == os.getpid() and run._finished:
        # A finish is under way (atexit, a multiprocessing finalizer) — often on the very thread
        # this handler interrupted, holding the uploader's lock: waiting here would deadlock.
        # Let it complete within SIGTERM_FLUSH_TIMEOUT; it ends the process when done.
        run._kill_after_finish = signum
        run._cap_finish(SIGTERM_FLUSH_TIMEOUT)
        return
    if run is not None and run._pid == os.getpid():
        # Another thread does the work: the main thread may have been interrupted while holding
        # one of the SDK's locks, and waiting on it here would never end.
        worker = threading.Thread(target=run._finish_killed, args=(signum,), name="wanllmdb-sigterm", daemon=True)
        worker.start()
        worker.join(SIGTERM_FLUSH_TIMEOUT)
    os.kill(os.getpid(), signum)


def _live_run() -> Optional[Any]:
    """The run whose hooks act in this process; None in a fork child the SDK stepped aside in."""
    run = _current
    if run is None or run.mode == "disabled" or run.finished or getattr(run, "_detached", False):
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


def exit_code_hint() -> Optional[int]:
    """The code the process is exiting with, as far as atexit can know it: what the script gave
    sys.exit() (`sys.exit(3)` ends the run failed with 3), else 1 when an uncaught exception ended
    the script — also when a library replaced sys.excepthook after init() (rich.traceback,
    IPython-style hooks), so ours never saw it — else None."""
    if _exit_code is not None:
        return _exit_code
    return 1 if uncaught_exception_ended_script() else None


def uncaught_exception_ended_script() -> bool:
    """CPython prints an uncaught exception with PyErr_Print(), which sets sys.last_exc /
    sys.last_value before it calls whatever sys.excepthook is, and then runs atexit. Only in a
    plain script: an interactive shell sets them for every error it shows and carries on."""
    if sys.flags.interactive or "IPython" in sys.modules or hasattr(sys, "ps1"):
        return False
    last = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    return last is not None and not isinstance(last, SystemExit)


def _sys_exit(code: Any = None) -> None:
    # SystemExit's own rules: None is 0, an int is itself, anything else (a message) is 1.
    global _exit_code
    _exit_code = 0 if code is None else code if isinstance(code, int) and not isinstance(code, bool) else 1
    if _orig_sys_exit is None:
        raise SystemExit(code)
    _orig_sys_exit(code)


def _at_exit() -> None:
    run = _live_run()
    if run is None:  # a fork child that called log_message() flushes what it logged
        run = _current
        if run is None or not getattr(run, "_detached_used", False) or run.finished:
            return
    if run._pid == os.getpid():
        run._finish_at_exit()


_held_capture: Optional[Any] = None  # the capture whose locks _before_fork holds across fork()
_fork_mask: Optional[Any] = None  # the forking thread's signal mask before _before_fork blocked SIGTERM


def _block_sigterm_for_fork() -> None:
    global _fork_mask
    try:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            _fork_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    except (ValueError, OSError, AttributeError):
        _fork_mask = None


def _restore_fork_mask() -> None:
    global _fork_mask
    mask, _fork_mask = _fork_mask, None
    if mask is not None:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        except (ValueError, OSError):
            pass


def _before_fork() -> None:
    global _held_capture
    _block_sigterm_for_fork()
    run = _live_run()
    capture = getattr(run, "_capture", None) if run is not None else None
    if capture is not None:
        try:
            capture.before_fork()
            _held_capture = capture
        except Exception:
            pass


def _after_fork_parent() -> None:
    global _held_capture
    _restore_fork_mask()
    capture, _held_capture = _held_capture, None
    if capture is not None:
        try:
            capture.after_fork_parent()
        except Exception:
            pass


def _after_fork_child() -> None:
    global _held_capture
    _held_capture = None
    sdk_stderr.reset_after_fork()
    capture_guard.reset_after_fork()
    logging_capture.reset_after_fork()
    global _lock, _sigterm_run
    _lock = threading.RLock()
    _sigterm_run = None
    _restore_default_sigterm()
    _restore_fork_mask()  # a SIGTERM that arrived since fork() is delivered now, by default: death
    run = _live_run()
    if run is not None:
        try:
            run._after_fork_child()
        except Exception as e:
            sdk_stderr.say(f"cannot set up capture in the fork child: {e!r}")


def _restore_default_sigterm() -> None:
    """In a fork child: SIGTERM as it was before init() (the default), never our handler."""
    try:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError, AttributeError):
        pass


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
    global _orig_sys_exit
    _orig_sys_exit = sys.exit
    sys.exit = _sys_exit  # the exit code is not visible to atexit otherwise (W&B does the same)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent,
                            after_in_child=_after_fork_child)


