"""Output that a Jupyter kernel reads from fds 1/2 (os.system, a C extension's printf).

ipykernel (6.x) points fds 1 and 2 at pipes, and a thread of each OutStream forwards what it
reads to the notebook by calling that stream's ``write``: it never passes through the
sys.stdout/sys.stderr we install in wrap mode. So writes made by a stream's own watcher thread
are captured too; every other write already went through our proxy.

IPython replaces ``sys.stdout.write`` on the instance around every cell (its output history
tee) and afterwards puts back what it found, as an instance attribute. The hook therefore sits
on the stream's class, wraps an instance attribute it finds, and before each cell removes the
put-back original that would hide the class's hook.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Dict, Optional

Capture = Callable[[str], None]

_lock = threading.Lock()
# Guarded by _lock: id(stream) -> (stream, capture) of every hooked stream; each hooked class's
# own write; the IPython pre_run_cell callback while any stream is hooked.
_hooked: Dict[int, Any] = {}
_originals: Dict[type, Any] = {}
_cell_hook: Optional[Callable[..., None]] = None
# Set while a hook calls on: a hook reached through another one (the instance's wrapping the
# class's) does not capture the same text twice.
_inside = threading.local()


def hook_fd_watcher(stream: Any, capture: Capture) -> Optional[Callable[[], None]]:
    """Captures what `stream`'s fd watcher thread writes; returns the undo, or None when
    `stream` has no such thread (not a kernel stream, or watchfd=False)."""
    global _cell_hook
    if not isinstance(getattr(stream, "watch_fd_thread", None), threading.Thread):
        return None
    cls = type(stream)
    with _lock:
        if cls not in _originals:
            original = cls.__dict__.get("write")
            if original is None:
                return None
            try:
                cls.write = _hooked_write(original)
            except (AttributeError, TypeError):
                return None
            _originals[cls] = original
        _hooked[id(stream)] = (stream, capture)
        _unshadow(stream)
        if _cell_hook is None:
            _cell_hook = _register_cell_hook()

    def undo() -> None:
        global _cell_hook
        with _lock:
            _hooked.pop(id(stream), None)
            wrapper = stream.__dict__.get("write")
            if getattr(wrapper, "_wanllmdb_inner", None) is not None:
                stream.__dict__["write"] = wrapper._wanllmdb_inner
            if not any(type(s) is cls for s, _ in _hooked.values()) and cls in _originals:
                try:
                    cls.write = _originals.pop(cls)
                except (AttributeError, TypeError):
                    pass
            if not _hooked and _cell_hook is not None:
                _unregister_cell_hook(_cell_hook)
                _cell_hook = None

    return undo


def _call(stream: Any, inner: Callable[..., Any], s: str, args: Any, kwargs: Any) -> Any:
    """inner(s, ...), and s captured when the stream's fd watcher wrote it. Every print of the
    notebook passes here: anything but the watcher thread goes straight on."""
    if threading.current_thread() is not getattr(stream, "watch_fd_thread", None) or getattr(_inside, "active", False):
        return inner(s, *args, **kwargs)
    _inside.active = True
    try:
        n = inner(s, *args, **kwargs)
    finally:
        _inside.active = False
    entry = _hooked.get(id(stream))
    if entry is not None and entry[0] is stream:
        try:
            entry[1](s)
        except Exception:
            pass  # capture never breaks the notebook's output
    return n


def _hooked_write(original: Any) -> Any:
    def write(self: Any, s: str, *args: Any, **kwargs: Any) -> Any:
        return _call(self, original.__get__(self), s, args, kwargs)

    return write


def _unshadow(stream: Any) -> None:
    """Caller holds _lock. Makes the stream's writes reach a hook despite an instance attribute."""
    inner = stream.__dict__.get("write")
    if inner is None or getattr(inner, "_wanllmdb_inner", None) is not None:
        return
    if getattr(inner, "__func__", None) is _originals.get(type(stream)):
        del stream.__dict__["write"]  # the original put back after a cell: the class hook is seen
        return

    def write(s: str, *args: Any, **kwargs: Any) -> Any:
        return _call(stream, inner, s, args, kwargs)

    write._wanllmdb_inner = inner  # type: ignore[attr-defined]
    stream.__dict__["write"] = write


def _register_cell_hook() -> Optional[Callable[..., None]]:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is None:
        return None

    def before_cell(*_: Any) -> None:
        with _lock:
            for stream, _capture in list(_hooked.values()):
                _unshadow(stream)

    try:
        shell.events.register("pre_run_cell", before_cell)
    except Exception:
        return None
    return before_cell


def _unregister_cell_hook(hook: Callable[..., None]) -> None:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    try:
        if shell is not None:
            shell.events.unregister("pre_run_cell", hook)
    except Exception:
        pass
