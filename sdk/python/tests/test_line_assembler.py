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
    assembler = LineAssembler()
    emitted: List[str] = []
    for chunk in case["chunks"]:
        emitted += assembler.feed(_chunk(chunk))
    assert len(emitted) == case["expected_before_flush"]
    emitted += assembler.flush()
    expected = [_line(spec) for spec in case["expected"]]
    assert emitted == expected
    assert assembler.flush() == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector_byte_by_byte_gives_the_same_lines(case: Dict[str, Any]) -> None:
    """Chunk boundaries must never change the result (only when a line is emitted)."""
    data = b"".join(_chunk(c) for c in case["chunks"])
    step = 1 if len(data) < 70000 else 997  # the largest cases in odd-sized steps, for speed
    assembler = LineAssembler()
    emitted: List[str] = []
    for i in range(0, len(data), step):
        emitted += assembler.feed(data[i : i + step])
    emitted += assembler.flush()
    assert emitted == [_line(spec) for spec in case["expected"]]


def test_random_chunking_of_mixed_stream_matches_one_chunk() -> None:
    rng = random.Random(7)
    parts = [b"plain\n", b"\xc3\xa9t\xc3\xa9\n", b"10%\r50%\r100%\n", b"\x1b[32mok\x1b[0m\n", b"bad\xff\n", b"\r\n",
             b"x" * 70000 + b"\n"]
    data = b"".join(rng.choice(parts) for _ in range(200))
    whole = LineAssembler()
    expected = whole.feed(data) + whole.flush()
    for _ in range(5):
        asm = LineAssembler()
        got: List[str] = []
        pos = 0
        while pos < len(data):
            step = rng.randint(1, 9000)
            got += asm.feed(data[pos : pos + step])
            pos += step
        got += asm.flush()
        assert got == expected
    assert all(len(line.encode()) <= MAX_LINE_BYTES for line in expected)
