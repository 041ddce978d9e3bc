"""`logging` integration: every record is uploaded once, with its real level and source "user".

How duplicates are avoided (a record printed by a StreamHandler would otherwise come back as an
anonymous stderr line):

* logging.Logger.callHandlers is wrapped (as sentry-python does): the record is uploaded there,
  exactly once — the record is marked, so re-dispatch (QueueHandler/QueueListener, a record
  re-logged by another logger) does not upload it again. Records of loggers with propagate=False
  or without handlers are uploaded too.
* logging.Handler.handle is wrapped: when a handler emits a marked record, a StreamHandler whose
  stream is captured is pointed, for that one emit and under the handler's lock, at the stream's
  uncaptured twin (capture_guard.bypass_for); and capture on the emitting thread is suppressed for
  the Python-level proxy. The text still reaches the terminal unchanged but is not captured again.
  This holds for handlers on any logger and in any thread (QueueListener threads included), and
  for handlers created before or after init().
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional

from .capture_guard import bypass_for, suppressed

_MARK = "_wanllmdb_uploaded"
# (message, level, timestamp) -> None
RecordSink = Callable[[str, str, float], None]

_lock = threading.Lock()
_sink: Optional[RecordSink] = None
_orig_call_handlers: Optional[Callable[..., Any]] = None
_orig_handle: Optional[Callable[..., Any]] = None
_formatter = logging.Formatter()


def level_name(levelno: int) -> str:
    """Custom levels map to the nearest standard level below them."""
    if levelno >= logging.CRITICAL:
        return "CRITICAL"
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARNING"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"


def record_text(record: logging.LogRecord) -> str:
    """The stored message: the logger's name (unless root), the message, then any traceback."""
    text = record.getMessage()
    if record.name and record.name != "root":
        text = record.name + ": " + text
    if record.exc_info:
        text += "\n" + _formatter.formatException(record.exc_info)
    elif record.exc_text:
        text += "\n" + record.exc_text
    if record.stack_info:
        text += "\n" + _formatter.formatStack(record.stack_info)
    return text


def _call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
    sink = _sink
    if sink is not None and not getattr(record, _MARK, False):
        try:
            setattr(record, _MARK, True)
            sink(record_text(record), level_name(record.levelno), record.created)
        except Exception:
            pass
    assert _orig_call_handlers is not None
    _orig_call_handlers(self, record)


def _handle(self: logging.Handler, record: logging.LogRecord) -> Any:
    assert _orig_handle is not None
    if _sink is None or not getattr(record, _MARK, False):
        return _orig_handle(self, record)
    bypass = bypass_for(getattr(self, "stream", None)) if isinstance(self, logging.StreamHandler) else None
    with suppressed():
        if bypass is None:
            return _orig_handle(self, record)
        # The handler's lock is reentrant and held by every emit: no other thread sees the swap.
        self.acquire()
        try:
            captured = self.stream
            try:
                self.stream = bypass
            except AttributeError:
                # logging.lastResort's stream is a read-only property (sys.stderr): emit as is
                # (the text may be captured a second time) rather than raise into logging.warning().
                return _orig_handle(self, record)
            try:
                return _orig_handle(self, record)
            finally:
                if self.stream is bypass:
                    self.stream = captured
        finally:
            self.release()


def install(sink: RecordSink) -> None:
    """Starts uploading records (idempotent; a new sink replaces the old one)."""
    global _sink, _orig_call_handlers, _orig_handle
    with _lock:
        if _orig_call_handlers is None:
            _orig_call_handlers = logging.Logger.callHandlers
            _orig_handle = logging.Handler.handle
            logging.Logger.callHandlers = _call_handlers  # type: ignore[method-assign]
            logging.Handler.handle = _handle  # type: ignore[method-assign]
        _sink = sink


def uninstall() -> None:
    """Stops uploading and restores the logging module, unless someone patched over us since."""
    global _sink, _orig_call_handlers, _orig_handle
    with _lock:
        _sink = None
        if _orig_call_handlers is not None and logging.Logger.callHandlers is _call_handlers:
            logging.Logger.callHandlers = _orig_call_handlers  # type: ignore[method-assign]
            logging.Handler.handle = _orig_handle  # type: ignore[method-assign]
            _orig_call_handlers = None
            _orig_handle = None


def reset_after_fork() -> None:
    """A fork child must not inherit a held lock."""
    global _lock
    _lock = threading.Lock()
