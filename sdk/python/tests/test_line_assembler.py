"""LineAssembler against the shared vectors (tests/vectors/line_assembly.json) plus a few properties."""
from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any, Dict, List

import pytest

from wanllmdb.line_assembler import MAX_LINE_BYTES, LineAssembler

VECTORS = Path(__file__).resolve().parents[3] / "tests" / "vectors" / "line_assembly.json"


def _load() -> Dict[str, Any]:
    with open(VECTORS, encoding="utf-8") as f:
        return json.load(f)


def _chunk(pieces: List[Dict[str, Any]]) -> bytes:
    return b"".join(base64.b64decode(p["b64"]) * p.get("repeat", 1) for p in pieces)


def _line(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    return "".join(p["text"] * p.get("repeat", 1) for p in spec)


CASES = _load()["cases"]


def test_vector_file_is_well_formed() -> None:
    doc = _load()
    assert doc["max_line_bytes"] == MAX_LINE_BYTES
    assert "base64" in doc["format"]
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case: Dict[str, Any]) -> None:
    assembler = LineAssembler(case.get("rows", 24))
    emitted: List[str] = []
    for chunk in case["chunks"]:
        emitted += assembler.settle() if chunk == "settle" else assembler.feed(_chunk(chunk))
    assert len(emitted) == case["expected_before_flush"]
    emitted += assembler.flush()
    expected = [_line(spec) for spec in case["expected"]]
    assert emitted == expected
    assert assembler.flush() == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector_byte_by_byte_gives_the_same_lines(case: Dict[str, Any]) -> None:
    """Chunk boundaries must never change the result (only when a line is emitted)."""
    if "settle" in case["chunks"]:
        pytest.skip("settle() depends on where the chunks end")
    data = b"".join(_chunk(c) for c in case["chunks"])
    step = 1 if len(data) < 70000 else 997  # the largest cases in odd-sized steps, for speed
    assembler = LineAssembler(case.get("rows", 24))
    emitted: List[str] = []
    for i in range(0, len(data), step):
        emitted += assembler.feed(data[i : i + step])
    emitted += assembler.flush()
    assert emitted == [_line(spec) for spec in case["expected"]]


def _feed_in_pieces(asm: LineAssembler, data: bytes, rng: random.Random, largest: int) -> List[str]:
    """Every line `asm` gives for `data` fed in random pieces of 1..largest bytes, then flush()."""
    got: List[str] = []
    pos = 0
    while pos < len(data):
        step = rng.randint(1, largest)
        got += asm.feed(data[pos : pos + step])
        pos += step
    return got + asm.flush()


def test_random_chunking_of_mixed_stream_matches_one_chunk() -> None:
    rng = random.Random(7)
    parts = [b"plain\n", b"\xc3\xa9t\xc3\xa9\n", b"10%\r50%\r100%\n", b"\x1b[32mok\x1b[0m\n", b"bad\xff\n", b"\r\n",
             b"\router\n\rinner\x1b[A", b"\x1b[?25lx\ny\r\x1b[2K\x1b[1A\x1b[2K\x1b[?25h", b"\x1b]8;;u\x1b\\l\x1b]8;;\x07",
             b"spin |\b/\b-", b"\x1b[31mred\x1b[0m\x1b[K\n",
             b"x" * 70000 + b"\n"]
    data = b"".join(rng.choice(parts) for _ in range(200))
    whole = LineAssembler()
    expected = whole.feed(data) + whole.flush()
    for _ in range(5):
        assert _feed_in_pieces(LineAssembler(), data, rng, 9000) == expected
    assert all(len(line.encode()) <= MAX_LINE_BYTES for line in expected)


def test_live_text_shows_every_row_of_a_live_display() -> None:
    a = LineAssembler()
    assert a.feed(b"\router 1/3\n\rinner 5/10\x1b[A") == []
    assert a.has_live() and a.live_text() == "outer 1/3\ninner 5/10"
    assert not a.needs_settle()  # it moved the cursor up: a live region
    assert a.feed(b"\router 3/3\n\r          \r\x1b[A\n\nnext\n") == ["outer 3/3", "", "next"]
    assert not a.has_live() and not a.has_partial()


def test_plain_lines_never_hold() -> None:
    a = LineAssembler()
    assert a.feed(b"one\n\x1b[32mtwo\x1b[0m\nthr") == ["one", "\x1b[32mtwo\x1b[0m"]
    assert not a.has_live() and not a.needs_settle()


def test_small_cuts_do_not_depend_on_how_the_stream_was_read() -> None:
    """With a small cut, rows are cut all the time: where reads end (inside an SGR, a UTF-8
    sequence, after a \\r) must not move the cuts. Found by the C++ fuzz target."""
    rng = random.Random(11)
    parts = [b"plain text ", b"\x1b[31mred\x1b[0m ", b"\xe2\x82\xac", b"bad \xff\xfe ", b"\n", b"10%\r", b"\r\n",
             b"\x1b[1mbold", b"caf\xc3\xa9 ", b"x" * 30, b"\x1b[K", b"\xe2\x82 utf8"]
    for cut in (16, 24, 40, 100):
        for _ in range(20):
            data = b"".join(rng.choice(parts) for _ in range(60))
            whole = LineAssembler(max_line_bytes=cut)
            expected = whole.feed(data) + whole.flush()
            got = _feed_in_pieces(LineAssembler(max_line_bytes=cut), data, rng, 9)
            assert got == expected, (cut, data)
