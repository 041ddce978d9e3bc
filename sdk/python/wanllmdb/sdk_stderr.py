"""The SDK's own messages on stderr: prefixed, never captured as the user's output, never raising.

Capture (redirect mode) points fd 2 at a pipe; SDK messages must reach the real terminal without
being uploaded as the user's stderr, so the capture registers the original fd here.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Optional, Set

_lock = threading.Lock()
_terminal_fd: Optional[int] = None  # the original fd 2 while redirect capture is active
_said: Set[str] = set()


def set_terminal_fd(fd: Optional[int]) -> None:
    global _terminal_fd
    _terminal_fd = fd


def say(message: str, once_key: Optional[str] = None) -> None:
    """Writes 'wanllmdb: message' to the user's terminal; with once_key, at most once per key."""
    if once_key is not None:
        with _lock:
            if once_key in _said:
                return
            _said.add(once_key)
    data = ("wanllmdb: " + message + "\n").encode("utf-8", "replace")
    try:
        fd = _terminal_fd
        if fd is None:
            stream = sys.__stderr__
            if stream is None:
                return
            stream.flush()
            fd = stream.fileno()
        os.write(fd, data)
    except Exception:
        pass


def reset_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
