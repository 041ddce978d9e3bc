"""`logging` integration: a record is stored as the text its handler printed, with its level.

The rule (DESIGN §6): what is stored is what the terminal shows. A record is stored when a
handler prints it to a captured stream, as the exact text that handler wrote (the user's format:
`WARNING:root:low disk space`, absl's glog prefix, `[rank2]`, colours), with the record's real
level and source "user". A record no handler prints is not stored (Jupyter's kernel logs DEBUG
records nobody shows). Printed twice (two handlers), stored twice, as the terminal shows it.

How: logging.Handler.handle is wrapped (as sentry-python wraps logging). When a handler whose
output goes to a captured stream emits a record — a StreamHandler whose stream is captured
(capture_guard.bypass_for), or a rich-style handler whose `console.file` is — its stream is
pointed, for that one emit and under the handler's lock, at a recorder over the stream's
uncaptured twin. The text reaches the terminal unchanged but is not captured a second time; the
recorder hands it to the sink with the record's level. Capture on the emitting thread is
suppressed for the Python-level proxy meanwhile. This holds for handlers on any logger and in
any thread (QueueListener threads included), created before or after init().

A handler writing to a file (FileHandler) is not the terminal: when no handler printed the record
to the console, the text the first such handler wrote is stored instead, so a script that logs
only to a file still has its records in the run. Any other handler's output is captured as
ordinary output if it reaches stdout/stderr at all.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, List, Optional

from . import structured
from .capture_guard import bypass_for, suppressed

# (message, level, timestamp, extra) -> None; extra: structured.extra_members() of the record
# (its custom level name and its `extra=` fields).
RecordSink = Callable[[str, str, float, str], None]

_PRINTED = "_wanllmdb_printed"  # set on a record once a handler printed it to the console
_FILE_TEXT = "_wanllmdb_file_text"  # what a file handler wrote, if no console handler printed it

_lock = threading.Lock()
_sink: Optional[RecordSink] = None
_orig_call_handlers: Optional[Callable[..., Any]] = None
_orig_handle: Optional[Callable[..., Any]] = None


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


class _Recorder:
    """Stands in for a handler's stream during one emit: writes go to `target` and are kept."""

    def __init__(self, target: Any) -> None:
        self._target = target
        self.parts: List[str] = []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return self._target.write(s)

    def flush(self) -> None:
        flush = getattr(self._target, "flush", None)
        if flush is not None:
            flush()

    @property
    def text(self) -> str:
        text = "".join(self.parts)
        return text[:-1] if text.endswith("\n") else text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


# Attributes every LogRecord has (and those logging and we add while formatting): the rest of
# record.__dict__ is what the caller passed as extra=.
_STANDARD_ATTRS = frozenset(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None).__dict__) | {
    "message", "asctime", "taskName", "stack_info", _PRINTED, _FILE_TEXT}


def record_extra(record: logging.LogRecord) -> str:
    """The record's level name when it is a custom one and its extra= fields, as JSON members."""
    fields = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS and not k.startswith("_")}
    name = record.levelname if isinstance(record.levelname, str) else None
    if not fields and (name is None or name in structured.CANONICAL):
        return ""
    return structured.extra_members(name, fields)


def _deliver(record: logging.LogRecord, text: str) -> None:
    sink = _sink
    if sink is None or not text:
        return
    try:
        sink(text, level_name(record.levelno), record.created, record_extra(record))
    except Exception:
        pass


def _rich_console(handler: logging.Handler) -> Any:
    """The rich.console.Console of a RichHandler-like handler (duck-typed: rich is not a
    dependency), when its file is settable."""
    console = getattr(handler, "console", None)
    if console is None or not hasattr(type(console), "file") or not hasattr(console, "_file"):
        return None
    return console


def _emit_recorded(handler: logging.Handler, record: logging.LogRecord, get: Callable[[], Any],
                   put: Callable[[Any], None], console: bool) -> Any:
    """Emits with the handler's stream (get/put) replaced by a recorder; under the handler's lock
    (reentrant, held by every emit), so no other thread sees the swap."""
    assert _orig_handle is not None
    handler.acquire()
    try:
        stream = get()
        target = bypass_for(stream) if console else stream
        if target is None:
            return _orig_handle(handler, record)
        recorder = _Recorder(target)
        try:
            put(recorder)
        except AttributeError:
            # logging.lastResort's stream is a read-only property (sys.stderr): emit as is (its
            # text is captured as ordinary output) rather than raise into logging.warning().
            return _orig_handle(handler, record)
        try:
            rv = _orig_handle(handler, record)
        finally:
            put(stream)
        if recorder.parts:
            if console:
                setattr(record, _PRINTED, True)
                _deliver(record, recorder.text)
            elif not hasattr(record, _FILE_TEXT):
                setattr(record, _FILE_TEXT, recorder.text)
        return rv
    finally:
        handler.release()


def _handle(self: logging.Handler, record: logging.LogRecord) -> Any:
    assert _orig_handle is not None
    if _sink is None:
        return _orig_handle(self, record)
    with suppressed():
        if isinstance(self, logging.StreamHandler):
            stream = getattr(self, "stream", None)
            console = bypass_for(stream) is not None
            if console or (isinstance(self, logging.FileHandler) and stream is not None):
                return _emit_recorded(self, record, lambda: self.stream,
                                      lambda s: setattr(self, "stream", s), console)
            return _orig_handle(self, record)
        rich = _rich_console(self)
        if rich is not None and bypass_for(rich.file) is not None:
            resolved, saved = rich.file, rich._file  # _file None: "sys.stdout at each write"

            def put(s: Any) -> None:
                rich._file = saved if s is resolved else s

            return _emit_recorded(self, record, lambda: resolved, put, True)
        return _orig_handle(self, record)


def _call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
    assert _orig_call_handlers is not None
    _orig_call_handlers(self, record)
    # Printed by no console handler, but written to a file: store the file's text (once).
    if _sink is not None and not getattr(record, _PRINTED, False):
        text = getattr(record, _FILE_TEXT, None)
        if text:
            setattr(record, _PRINTED, True)
            _deliver(record, text)


def install(sink: RecordSink) -> None:
    """Starts storing records (idempotent; a new sink replaces the old one)."""
    global _sink, _orig_call_handlers, _orig_handle
    with _lock:
        if _orig_call_handlers is None:
            _orig_call_handlers = logging.Logger.callHandlers
            _orig_handle = logging.Handler.handle
            logging.Logger.callHandlers = _call_handlers  # type: ignore[method-assign]
            logging.Handler.handle = _handle  # type: ignore[method-assign]
        _sink = sink


def uninstall() -> None:
    """Stops storing and restores the logging module, unless someone patched over us since."""
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
