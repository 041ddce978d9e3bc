"""How output that the SDK has already uploaded reaches the terminal without being captured again.

Two mechanisms, both used for `logging` records the SDK uploaded and for tracebacks it stored:

* Bypass streams: the console capture registers, for each stream object whose output is captured
  (the wrapped sys.stdout/sys.stderr, and the original stream objects in redirect mode), a stream
  that reaches the same destination uncaptured. A StreamHandler emitting an uploaded record is
  pointed at the bypass stream for the duration of that one emit (under the handler's own lock).
* A per-thread "suppressed" flag for the Python-level proxy (TextProxy, used when a stream has no
  binary buffer to wrap): writes made by this thread while it is set are passed through only.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Dict, Iterator, Optional, Tuple


class _State(threading.local):
    depth = 0


_tls = _State()
_lock = threading.Lock()
# id(stream) -> (stream, bypass). The stream is kept so its id cannot be reused while registered.
_bypass: Dict[int, Tuple[Any, Any]] = {}


def is_suppressed() -> bool:
    return _tls.depth > 0


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    _tls.depth += 1
    try:
        yield
    finally:
        _tls.depth -= 1


def register_bypass(stream: Any, bypass: Any) -> None:
    with _lock:
        _bypass[id(stream)] = (stream, bypass)


def unregister_bypass(stream: Any) -> None:
    with _lock:
        entry = _bypass.get(id(stream))
        if entry is not None and entry[0] is stream:
            del _bypass[id(stream)]


def bypass_for(stream: Any) -> Optional[Any]:
    """The uncaptured twin of a captured stream, or None when the stream is not captured."""
    entry = _bypass.get(id(stream))
    if entry is not None and entry[0] is stream:
        return entry[1]
    return None


def reset_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
