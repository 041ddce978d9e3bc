"""Where the native `wanllmdb` binary is: the SDK's sidecar and the `wanllmdb` console script.

Order: $WANLLMDB_BIN (an explicit choice wins), the binary bundled in this package by the platform
wheel (`make wheel`: wanllmdb/_native/wanllmdb, with the web UI in wanllmdb/_native/web), then
`wanllmdb` on PATH. Our own console script (a Python launcher, also called `wanllmdb`) is never
taken for the binary: running it as the sidecar would only find the same nothing again.

Without a binary the SDK captures in-process; an installed package (not a source checkout) says
once on stderr how to get native capture.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from . import sdk_stderr

NATIVE_DIR = Path(__file__).resolve().parent / "_native"
LAUNCHER_MARKER = b"wanllmdb.launcher"  # in the console script pip writes for launcher.main
HOW_TO_GET_NATIVE = (
    "native capture is not available (no wanllmdb binary: this is the pure-Python package), so "
    "output is captured in-process and a script killed by SIGKILL may lose its last lines; "
    "install the platform wheel (`make wheel`, then pip install dist/wanllmdb-*.whl), or put the "
    "wanllmdb binary on PATH or name it in WANLLMDB_BIN")


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _is_launcher(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.startswith(b"#!") and LAUNCHER_MARKER in head


def bundled_binary() -> Optional[str]:
    candidate = NATIVE_DIR / "wanllmdb"
    return str(candidate) if _executable(candidate) else None


def binary_on_path() -> Optional[str]:
    for entry in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = Path(entry or ".") / "wanllmdb"
        if _executable(candidate) and not _is_launcher(candidate):
            return str(candidate)
    return None


def find_binary(explain_if_missing: bool = False) -> Optional[str]:
    """WANLLMDB_BIN, else the bundled binary, else `wanllmdb` on PATH; None when none is an
    executable file (a WANLLMDB_BIN naming nothing usable is None too, never a silent PATH)."""
    named = os.environ.get("WANLLMDB_BIN", "").strip()
    if named:
        return named if _executable(Path(named)) else None
    found = bundled_binary() or binary_on_path()
    if found is None and explain_if_missing and not _in_source_checkout():
        sdk_stderr.say(HOW_TO_GET_NATIVE, once_key="native-missing")
    return found


def _in_source_checkout() -> bool:
    """Running from sdk/python (PYTHONPATH or an editable install): a developer of this package,
    who builds the binary themselves, not a pip user to advise."""
    return (Path(__file__).resolve().parent.parent / "pyproject.toml").is_file()
