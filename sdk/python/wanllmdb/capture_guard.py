"""A per-thread switch that says "this output is already uploaded; pass it through, do not capture".

Set while a `logging` record that the SDK uploaded is written by a stream handler, and while the
SDK prints a traceback it has uploaded itself, so that neither is stored a second time as an
anonymous stderr line.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

_tls = threading.local()


def is_suppressed() -> bool:
    return getattr(_tls, "depth", 0) > 0


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    _tls.depth = getattr(_tls, "depth", 0) + 1
    try:
        yield
    finally:
        _tls.depth -= 1
