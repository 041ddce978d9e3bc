"""The channel that replaces fd 1 or 2 while output is captured (in-process or by the agent)."""
from __future__ import annotations

import os
from typing import Tuple

try:
    import fcntl
    import termios
except ImportError:  # not on this platform: pipes only
    fcntl = None  # type: ignore[assignment]
    termios = None  # type: ignore[assignment]


def open_capture_channel(original_fd: int) -> Tuple[int, int]:
    """(read end for the capture, write end for fd 1/2): a pipe; or, when the original is a
    terminal, a pseudo-terminal, so the program and its children still see isatty() == True and
    keep colours and progress bars. The pty passes bytes unchanged and copies the window size."""
    if termios is not None and fcntl is not None and hasattr(os, "openpty") and os.isatty(original_fd):
        try:
            master, slave = os.openpty()
            try:
                attrs = termios.tcgetattr(slave)
                attrs[1] &= ~termios.OPOST  # bytes pass unchanged: no \n -> \r\n
                termios.tcsetattr(slave, termios.TCSANOW, attrs)
                size = fcntl.ioctl(original_fd, termios.TIOCGWINSZ, b"\0" * 8)
                fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
            except (OSError, termios.error):
                pass
            return master, slave
        except OSError:
            pass
    return os.pipe()
