"""Line assembly: the one rule (DESIGN §6) that turns a byte stream into stored log lines.

The same rule is implemented by the C++ capture; both are tested against
tests/vectors/line_assembly.json, so read that file's "format" field together with this one.

Rules, applied to the bytes of one stream (stdout or stderr):

* ``\\n`` ends a line (the newline is not part of it).
* ``\\r`` rewrites the current line: the bytes before it are discarded as soon as more bytes of
  the same line arrive, so a progress bar stores only its final state. ``\\r\\n`` is a plain line
  end (the text before the ``\\r`` is kept), also when ``\\r`` and ``\\n`` arrive in different
  chunks. A line ending in ``\\r`` at flush keeps its text.
* ANSI SGR sequences (colours, ``ESC [ ... m``) are kept; every other CSI sequence (cursor
  movement, erase: ``ESC [ params final``) is dropped, since a stored line has no cursor.
* Bytes are decoded as UTF-8; each maximal invalid subsequence becomes one U+FFFD (the Unicode
  "substitution of maximal subparts" practice, which is what Python's ``errors="replace"`` does).
* A line longer than MAX_LINE_BYTES (65,536) input bytes is emitted in pieces of at most that many
  bytes, each piece cut before a UTF-8 lead byte (backing off at most 3 bytes) so that a valid
  character is never split; the rest continues as the next line. Nothing is dropped.
* Empty lines are lines. ``flush()`` emits a final line that has no newline (if it is non-empty).
"""
from __future__ import annotations

import re
from typing import List

MAX_LINE_BYTES = 65536

# CSI = ESC '[' parameter bytes (0x30-0x3F)* intermediate bytes (0x20-0x2F)* final byte (0x40-0x7E).
# Every final byte except 'm' (SGR, colours) is a cursor/erase command and is dropped. None of these
# byte classes contains '\n', so applying the pattern to several joined lines is the same as per line.
_NON_SGR_CSI = re.compile("\x1b\\[[0-?]*[ -/]*[@-ln-~]")


def _finish(raw: bytes) -> str:
    """Decodes one assembled line and drops cursor-control sequences."""
    text = raw.decode("utf-8", "replace")
    if "\x1b" in text:
        text = _NON_SGR_CSI.sub("", text)
    return text


class LineAssembler:
    """Turns byte chunks of one stream into complete lines.

    Not thread-safe: the owner (one capture stream) serializes feed() and flush().
    """

    __slots__ = ("_buf", "_cr_pending")

    def __init__(self) -> None:
        # Bytes of the current, incomplete line (after \r handling).
        self._buf = bytearray()
        # A \r was seen and nothing but more \r since: the next byte decides whether the line
        # is rewritten (other text) or ended (\n).
        self._cr_pending = False

    def feed(self, chunk: bytes) -> List[str]:
        """Adds bytes and returns the lines they complete, in order."""
        if not chunk:
            return []
        if not self._cr_pending and b"\r" not in chunk:
            # Fast path (the common case: no progress bars): one decode and one split for all the
            # complete lines of the chunk, done in C.
            buf = self._buf
            if len(buf) + len(chunk) <= MAX_LINE_BYTES:
                end = chunk.rfind(b"\n")
                if end < 0:
                    buf += chunk
                    return []
                if buf:
                    buf += chunk[:end]
                    complete = bytes(buf)
                    buf.clear()
                else:
                    complete = chunk[:end]
                if end + 1 < len(chunk):
                    buf += chunk[end + 1 :]
                return _finish(complete).split("\n")
        return self._feed_slow(chunk)

    def _feed_slow(self, chunk: bytes) -> List[str]:
        out: List[str] = []
        pos = 0
        n = len(chunk)
        while pos < n:
            lf = chunk.find(b"\n", pos)
            cr = chunk.find(b"\r", pos)
            if lf < 0 and cr < 0:
                stop = n
            elif lf < 0:
                stop = cr
            elif cr < 0:
                stop = lf
            else:
                stop = min(lf, cr)
            if stop > pos:
                if self._cr_pending:
                    self._buf.clear()
                    self._cr_pending = False
                self._append(chunk[pos:stop], out)
            if stop == n:
                break
            if chunk[stop] == 0x0A:
                out.append(_finish(bytes(self._buf)))
                self._buf.clear()
                self._cr_pending = False
            else:
                self._cr_pending = True
            pos = stop + 1
        return out

    def _append(self, data: bytes, out: List[str]) -> None:
        """Appends bytes of the current line, emitting continuation lines past MAX_LINE_BYTES."""
        buf = self._buf
        buf += data
        while len(buf) > MAX_LINE_BYTES:
            cut = MAX_LINE_BYTES
            # Back off over continuation bytes (10xxxxxx) so the cut lands before a lead byte.
            while cut > MAX_LINE_BYTES - 3 and (buf[cut] & 0xC0) == 0x80:
                cut -= 1
            out.append(_finish(bytes(buf[:cut])))
            del buf[:cut]

    def flush(self) -> List[str]:
        """Ends the stream: returns the final line if it has no newline yet."""
        self._cr_pending = False
        if not self._buf:
            return []
        line = _finish(bytes(self._buf))
        self._buf.clear()
        return [line]

    def has_partial(self) -> bool:
        """True when bytes of an unfinished line are held."""
        return bool(self._buf)
