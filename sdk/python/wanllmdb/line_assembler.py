"""Line assembly: the one rule (DESIGN §6) that turns a byte stream into stored log lines — what a
terminal shows, once it has stopped changing.

The same rule is implemented by the C++ capture (src/capture/line_assembler.*); both are tested
against tests/vectors/line_assembly.json, whose "format" field and doc/capture.md ("Line
assembly") are the normative description. In short, applied to the bytes of one stream:

* The stream drives a small terminal: rows of cells (one code point each, with the SGR colour
  sequences written before it), a cursor, ``\\n`` (new line at column 0, as the user's terminal
  shows it), ``\\r``, ``\\b``, cursor up/down/left/right/column (CSI A B C D E F G H), erase in
  line/display (CSI K, J), save/restore cursor, the alternate screen (ignored). SGR is kept;
  every other escape (OSC 8 hyperlinks, titles, modes, DCS...) is removed.
* Rows the program may still redraw are held; a row is stored once it can no longer change: a
  plain line ended at the bottom releases everything above it; a row more than ``rows`` above
  the bottom is off screen; ``settle()`` (the owner's idle timer) releases the rows above the
  cursor of a stream that never moved the cursor up; while the cursor is hidden (a live display)
  nothing is plain; ``flush()``.
* A stored row that was redrawn in place loses its trailing blanks (padding of older frames).
* Invalid UTF-8 becomes one U+FFFD per maximal invalid subpart.
* A row over MAX_LINE_BYTES (65,536) bytes is cut into pieces of at most that many, never inside
  a code point. Nothing is dropped.

Lines of text, tabs and SGR only take a fast path (one decode and split per chunk, in C).
"""
from __future__ import annotations

import re
from typing import Dict, List

MAX_LINE_BYTES = 65536
DEFAULT_ROWS = 24
SETTLE_SECONDS = 0.15  # the owner calls settle() once a stream needing it was quiet this long

_MAX_CSI = 256
_MAX_PARAM = 9999
# A chunk (or the rest of a line) that needs the terminal model: \r, \b, or an ESC that does not
# start a complete SGR sequence the model would keep (at most _MAX_CSI bytes with ESC [; a longer
# one is dropped there, as when a read ends inside it). None of these classes contains \n.
_NEEDS_TERMINAL = re.compile(rb"[\r\b]|\x1b(?!\[[0-9;:]{0,%d}m)" % (_MAX_CSI - 2))
_SPECIAL = re.compile(rb"[\n\r\b\x1b]")


def _incomplete_tail(b: bytes) -> int:
    """How many trailing bytes start a UTF-8 sequence that continues in the next chunk (0-3)."""
    for k in range(1, min(3, len(b)) + 1):
        c = b[-k]
        if c & 0xC0 == 0x80:
            continue
        need = 2 if 0xC2 <= c <= 0xDF else 3 if 0xE0 <= c <= 0xEF else 4 if 0xF0 <= c <= 0xF4 else 1
        return k if need > k else 0
    return 0


def _ulen(ch: str) -> int:
    o = ord(ch)
    return 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4


def _param(csi: str, k: int) -> int:
    parts = csi[2:-1].split(";")
    if k >= len(parts):
        return 0
    digits = re.match(r"[0-9]*", parts[k]).group(0)  # type: ignore[union-attr]
    return min(_MAX_PARAM, int(digits)) if digits else 0


class _Row:
    __slots__ = ("cells", "pre", "trail", "nbytes", "drawn")

    def __init__(self, drawn: bool = False) -> None:
        self.cells: List[str] = []
        self.pre: Dict[int, str] = {}  # SGR written before cell i
        self.trail = ""  # SGR written after the last cell
        self.nbytes = 0  # rendered size (cells + pre + trail)
        self.drawn = drawn  # changed in place after being written

    def recount(self) -> None:
        self.nbytes = len(self.trail) + sum(map(_ulen, self.cells)) + sum(map(len, self.pre.values()))

    def render(self, trim: bool) -> str:
        n = len(self.cells)
        if trim and self.drawn:
            last_pre = max(self.pre) + 1 if self.pre else 0
            while n > last_pre and self.cells[n - 1] == " ":
                n -= 1
        if not self.pre:
            return "".join(self.cells[:n]) + self.trail
        pre = self.pre
        return "".join(pre.get(i, "") + self.cells[i] for i in range(n)) + self.trail


_GROUND, _ESC, _ESC_INTER, _CSI, _STRING, _STRING_ESC = range(6)


class LineAssembler:
    """Turns byte chunks of one stream into complete lines.

    Not thread-safe: the owner (one capture stream) serializes every call.
    """

    __slots__ = ("_rows_limit", "_max", "_plain_limit", "_plain", "_rows", "_cy", "_cx", "_saved", "_pending_sgr", "_hold", "_csi",
                 "_csi_overflow", "_esc", "_cr_pending", "_seen_up", "_alt", "_hidden")

    def __init__(self, rows: int = DEFAULT_ROWS, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self._rows_limit = max(2, rows)
        # The cut (smaller only in tests). Plain mode holds at most a third of it in raw bytes:
        # they render to at most 3 times as many (an invalid byte becomes a 3-byte U+FFFD), so a
        # plain line is never cut; a longer one goes to the terminal model, whose cut counts
        # rendered bytes and never splits an escape, whatever sizes the reads had.
        self._max = max(16, max_line_bytes)
        self._plain_limit = self._max // 3
        # Plain mode (no rows held): the current line's bytes, text and SGR only.
        self._plain = bytearray()
        # Terminal mode: the held rows and the cursor.
        self._rows: List[_Row] = []
        self._cy = 0
        self._cx = 0
        self._saved = (0, 0)  # DECSC: rows above the bottom, column
        self._pending_sgr = ""
        self._hold = b""  # an incomplete UTF-8 sequence at a chunk's end
        self._csi = ""
        self._csi_overflow = False
        self._esc = _GROUND
        self._cr_pending = False
        self._seen_up = False
        self._alt = False
        self._hidden = False  # DECTCEM off: a live display is being drawn

    def set_rows(self, rows: int) -> None:
        self._rows_limit = max(2, rows)

    # ---- public API -------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> List[str]:
        """Adds bytes and returns the lines they complete, in order."""
        out: List[str] = []
        if not chunk:
            return out
        if (not self._rows and b"\r" not in chunk and b"\b" not in chunk
                and (b"\x1b" not in chunk or _NEEDS_TERMINAL.search(chunk) is None)):
            # The common case, a chunk of text and SGR only: one decode and split, in C.
            buf = self._plain
            if len(buf) + len(chunk) <= self._plain_limit or self._lines_fit(chunk):
                end = chunk.rfind(b"\n")
                if end < 0:
                    buf += chunk
                    return out
                if buf:
                    buf += chunk[:end]
                    complete = bytes(buf)
                    buf.clear()
                else:
                    complete = chunk[:end]
                if end + 1 < len(chunk):
                    buf += chunk[end + 1 :]
                return complete.decode("utf-8", "replace").split("\n")
        pos = 0
        n = len(chunk)
        while pos < n:
            if self._rows:
                pos = self._feed_terminal(chunk, pos, out)
                continue
            m = _NEEDS_TERMINAL.search(chunk, pos)
            # Plain mode up to the line holding the first byte that needs the terminal model.
            stop = n if m is None else m.start()
            lf = chunk.rfind(b"\n", pos, stop)
            if lf >= 0:
                self._plain_lines(chunk[pos:lf], out)
                pos = lf + 1
            if m is None:
                self._append_plain(chunk[pos:], out)
                break
            self._append_plain(chunk[pos:stop], out)
            if not self._rows:
                self._enter_terminal(out)
            pos = stop
        return out

    def settle(self) -> List[str]:
        """The stream was quiet for SETTLE_SECONDS: if it never moved the cursor up, the rows above
        the cursor are final (a finished progress bar)."""
        out: List[str] = []
        if self.needs_settle():
            self._release(self._cy, out)
            if self._clean():
                self._rows = []
        return out

    def needs_settle(self) -> bool:
        return not self._seen_up and not self._hidden and len(self._rows) > 1

    def flush(self) -> List[str]:
        """Ends the stream: returns every row still held, and the last line if it is not empty."""
        out: List[str] = []
        if not self._rows:
            if self._plain:
                out.append(bytes(self._plain).decode("utf-8", "replace"))
        else:
            self._esc = _GROUND
            self._flush_hold(out)
            self._flush_pending_sgr()
            end = len(self._rows)
            while end > self._cy and not self._rows[end - 1].render(True):
                end -= 1
            self._release(end, out)
        self._plain.clear()
        self._rows = []
        self._cy = self._cx = 0
        self._pending_sgr = ""
        self._hold = b""
        self._esc = _GROUND
        self._cr_pending = self._seen_up = self._alt = self._hidden = False
        return out

    def has_partial(self) -> bool:
        """True when bytes of an unfinished line (or held rows) are kept."""
        return bool(self._plain) or bool(self._rows)

    def has_live(self) -> bool:
        """True while rows are being redrawn: live_text() may be shown live, never stored."""
        return len(self._rows) > 1 or (len(self._rows) == 1 and self._rows[0].drawn)

    def live_text(self) -> str:
        rows = self._rows
        end = len(rows)
        while end > self._cy and not rows[end - 1].render(True):
            end -= 1
        return "\n".join(r.render(True) for r in rows[:end])

    # ---- plain mode -------------------------------------------------------------------------

    def _lines_fit(self, chunk: bytes) -> bool:
        """Whether every line the plain bytes and `chunk` make is short enough for plain mode."""
        limit = self._plain_limit
        parts = chunk.split(b"\n")
        return len(self._plain) + len(parts[0]) <= limit and all(len(p) <= limit for p in parts[1:])

    def _plain_lines(self, data: bytes, out: List[str]) -> None:
        """Complete lines (data holds no special byte but \\n; it ends where a \\n was)."""
        lines = data.split(b"\n")
        if self._plain:
            lines[0] = bytes(self._plain) + lines[0]
            self._plain.clear()
        limit = self._plain_limit
        if all(len(line) <= limit for line in lines):
            out.extend(b"\n".join(lines).decode("utf-8", "replace").split("\n"))
            return
        for line in lines:
            if not self._rows and len(line) <= limit:
                out.append(line.decode("utf-8", "replace"))
            elif self._rows:
                self._feed_terminal(line + b"\n", 0, out)
            else:
                self._plain += line
                self._enter_terminal(out)
                self._feed_terminal(b"\n", 0, out)

    def _append_plain(self, data: bytes, out: List[str]) -> None:
        self._plain += data
        if len(self._plain) > self._plain_limit:
            self._enter_terminal(out)

    def _enter_terminal(self, out: List[str]) -> None:
        self._rows = [_Row()]
        self._cy = self._cx = 0
        line = bytes(self._plain)
        self._plain.clear()
        self._feed_terminal(line, 0, out)

    # ---- terminal mode ----------------------------------------------------------------------

    def _clean(self) -> bool:
        rows = self._rows
        return (len(rows) == 1 and not rows[0].cells and not rows[0].trail and self._cx == 0
                and not self._pending_sgr and not self._hold and self._esc == _GROUND
                and not self._alt and not self._hidden and not self._cr_pending)

    def _feed_terminal(self, chunk: bytes, pos: int, out: List[str]) -> int:
        n = len(chunk)
        while pos < n:
            c = chunk[pos]
            st = self._esc
            if st == _GROUND:
                if c not in (0x0A, 0x0D, 0x08, 0x1B):
                    m = _SPECIAL.search(chunk, pos)
                    end = n if m is None else m.start()
                    self._text(chunk[pos:end], out)
                    pos = end
                    continue
                self._flush_hold(out)
                pos += 1
                if c == 0x0A:
                    self._new_line(out)
                    if self._clean():
                        self._rows = []
                        return pos
                elif c == 0x0D:
                    if not self._alt:
                        self._flush_pending_sgr()  # a colour reset ending the old frame stays there
                        self._cx = 0
                        self._cr_pending = True
                elif c == 0x08:
                    if not self._alt:
                        self._before_control()
                        if self._cx > 0:
                            self._cx -= 1
                else:
                    self._esc = _ESC
            elif st == _ESC:
                pos += 1
                if c == 0x5B:  # [
                    self._esc = _CSI
                    self._csi = "\x1b["
                    self._csi_overflow = False
                elif c in b"]PX^_":
                    self._esc = _STRING
                elif 0x20 <= c <= 0x2F:
                    self._esc = _ESC_INTER
                elif c == 0x1B:
                    self._esc = _ESC
                else:
                    self._esc = _GROUND
                    self._esc_final(chr(c), out)
            elif st == _ESC_INTER:
                if 0x20 <= c <= 0x2F:
                    pos += 1
                else:
                    self._esc = _GROUND
                    if 0x30 <= c <= 0x7E:
                        pos += 1
            elif st == _CSI:
                if 0x20 <= c <= 0x3F:
                    if len(self._csi) < _MAX_CSI:
                        self._csi += chr(c)
                    else:
                        self._csi_overflow = True
                    pos += 1
                elif 0x40 <= c <= 0x7E:
                    pos += 1
                    self._esc = _GROUND
                    if not self._csi_overflow:
                        self._csi += chr(c)
                        self._execute_csi(chr(c), out)
                else:
                    self._esc = _GROUND
            elif st == _STRING:
                pos += 1
                if c == 0x07:
                    self._esc = _GROUND
                elif c == 0x1B:
                    self._esc = _STRING_ESC
            else:  # _STRING_ESC
                if c == 0x5C:  # backslash: ST
                    pos += 1
                    self._esc = _GROUND
                else:
                    self._esc = _ESC
        return pos

    def _text(self, run: bytes, out: List[str]) -> None:
        if self._hold:
            run = self._hold + run
            self._hold = b""
        tail = _incomplete_tail(run)
        if tail:
            self._hold = run[-tail:]
            run = run[:-tail]
        put = self._put_char
        for ch in run.decode("utf-8", "replace"):
            put(ch, out)

    def _flush_hold(self, out: List[str]) -> None:
        if self._hold:
            held = self._hold
            self._hold = b""
            for ch in held.decode("utf-8", "replace"):
                self._put_char(ch, out)

    def _before_control(self) -> None:
        if self._cr_pending:
            self._rows[self._cy].drawn = True
            self._cr_pending = False

    def _put_char(self, ch: str, out: List[str]) -> None:
        if self._alt:
            return
        r = self._rows[self._cy]
        if self._cr_pending:
            r.drawn = True
            self._cr_pending = False
        cx = self._cx
        size = _ulen(ch)
        if cx < len(r.cells):
            r.drawn = True
            r.nbytes += size - _ulen(r.cells[cx])
            r.cells[cx] = ch
            old = r.pre.pop(cx, None)
            if old is not None:
                r.nbytes -= len(old)
            if self._pending_sgr:
                r.pre[cx] = self._pending_sgr
                r.nbytes += len(self._pending_sgr)
        else:
            before = r.trail
            r.trail = ""
            while len(r.cells) <= cx:
                at = len(r.cells)
                if at == cx:
                    r.nbytes += len(self._pending_sgr)
                    before += self._pending_sgr
                if before:
                    r.pre[at] = before
                    before = ""
                if at == cx:
                    r.cells.append(ch)
                    r.nbytes += size
                else:
                    r.cells.append(" ")
                    r.nbytes += 1
        self._pending_sgr = ""
        self._cx = cx + 1
        if r.nbytes > self._max:
            self._cut(out)

    def _flush_pending_sgr(self) -> None:
        if not self._pending_sgr:
            return
        r = self._rows[self._cy]
        if not self._alt:
            if self._cx < len(r.cells):
                old = r.pre.get(self._cx)
                if old is not None and len(old) > _MAX_CSI * 4:
                    r.nbytes -= len(old)
                    old = ""
                r.pre[self._cx] = self._pending_sgr + (old or "")
                r.nbytes += len(self._pending_sgr)
            else:
                r.nbytes += len(self._pending_sgr) - len(r.trail)
                r.trail = self._pending_sgr
        self._pending_sgr = ""

    def _new_line(self, out: List[str]) -> None:
        if self._alt:
            return
        self._flush_pending_sgr()
        self._cr_pending = False
        self._cx = 0
        rows = self._rows
        if self._cy + 1 < len(rows):
            self._cy += 1
            return
        # A program that hid the cursor is drawing a live display (rich): its first frame is plain
        # text, redrawn later.
        if not rows[self._cy].drawn and not self._hidden:
            self._release(len(rows), out)
            self._rows.append(_Row())
            self._cy = 0
            return
        if not self._seen_up and not self._hidden:
            self._release(self._cy, out)
        self._rows.append(_Row())
        self._cy = len(self._rows) - 1
        if len(self._rows) > self._rows_limit:
            self._release(len(self._rows) - self._rows_limit, out)

    def _release(self, n: int, out: List[str]) -> None:
        n = min(n, len(self._rows))
        for r in self._rows[:n]:
            out.append(r.render(True))
        del self._rows[:n]
        self._cy = self._cy - n if self._cy >= n else 0

    def _cut(self, out: List[str]) -> None:
        self._release(self._cy, out)
        r = self._rows[0]
        k = 0
        total = 0
        while k < len(r.cells):
            add = _ulen(r.cells[k]) + len(r.pre.get(k, ""))
            if total + add > self._max:
                break
            total += add
            k += 1
        k = max(k, 1)
        piece = _Row()
        piece.cells = r.cells[:k]
        piece.pre = {i: s for i, s in r.pre.items() if i < k}
        out.append(piece.render(False))
        del r.cells[:k]
        r.pre = {i - k: s for i, s in r.pre.items() if i >= k}
        r.recount()
        self._cx = self._cx - k if self._cx > k else 0

    def _erase_in_line(self, r: _Row, mode: int) -> None:
        r.drawn = True
        cx = self._cx
        if mode == 2 or (mode == 0 and cx == 0):
            r.cells = []
            r.pre = {}
            r.trail = ""
        elif mode == 0:
            if cx < len(r.cells):
                del r.cells[cx:]
                r.pre = {i: s for i, s in r.pre.items() if i < cx}
                r.trail = ""
        else:
            end = min(cx + 1, len(r.cells))
            for i in range(end):
                r.cells[i] = " "
            r.pre = {i: s for i, s in r.pre.items() if i >= end}
        r.recount()

    def _execute_csi(self, final: str, out: List[str]) -> None:
        csi = self._csi
        lead = csi[2] if len(csi) > 3 else final
        if any(" " <= ch <= "/" for ch in csi[2:-1]):
            return
        if lead in "?><=":
            if lead == "?" and final in "hl":
                digits = re.match(r"[0-9]*", csi[3:-1]).group(0)  # type: ignore[union-attr]
                mode = min(_MAX_PARAM, int(digits)) if digits else 0
                if mode in (1049, 1047, 47):
                    if final == "h":
                        self._flush_pending_sgr()
                    self._alt = final == "h"
                elif mode == 25:
                    self._hidden = final == "l"
            return
        if final == "m":
            if self._alt:
                return
            if len(self._pending_sgr) + len(csi) > _MAX_CSI * 4:
                self._pending_sgr = ""
            self._pending_sgr += csi
            return
        if self._alt:
            return
        self._before_control()
        p0 = _param(csi, 0)
        n = max(p0, 1)
        last = len(self._rows) - 1
        if final in "AF":
            self._seen_up = True
            self._cy = self._cy - n if self._cy > n else 0
            if final == "F":
                self._cx = 0
        elif final in "BE":
            self._cy = min(last, self._cy + n)
            if final == "E":
                self._cx = 0
        elif final == "C":
            self._cx = min(self._max, self._cx + n)
        elif final == "D":
            self._cx = self._cx - n if self._cx > n else 0
        elif final in "G`":
            self._cx = min(self._max, n - 1)
        elif final in "Hf":
            self._seen_up = True
            self._cy = min(last, n - 1)
            self._cx = min(self._max, max(_param(csi, 1), 1) - 1)
        elif final == "K":
            self._erase_in_line(self._rows[self._cy], min(p0, 3))
        elif final == "J":
            if p0 == 0:
                self._erase_in_line(self._rows[self._cy], 0)
                for i in range(self._cy + 1, len(self._rows)):
                    self._rows[i] = _Row(drawn=True)
            elif p0 == 1:
                self._erase_in_line(self._rows[self._cy], 1)
                for i in range(self._cy):
                    self._rows[i] = _Row(drawn=True)
            else:
                self._rows = [_Row(drawn=True) for _ in self._rows]
        elif final == "s":
            self._saved = (last - self._cy, self._cx)
        elif final == "u":
            self._seen_up = True
            dist, self._cx = self._saved
            self._cy = last - dist if last > dist else 0

    def _esc_final(self, c: str, out: List[str]) -> None:
        if self._alt:
            return
        if c == "7":
            self._before_control()
            self._saved = (len(self._rows) - 1 - self._cy, self._cx)
        elif c == "8":
            self._before_control()
            self._seen_up = True
            last = len(self._rows) - 1
            dist, self._cx = self._saved
            self._cy = last - dist if last > dist else 0
        elif c == "M":
            self._before_control()
            self._seen_up = True
            if self._cy > 0:
                self._cy -= 1
        elif c == "E":
            self._new_line(out)


