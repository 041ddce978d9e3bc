"""Issue 14, chunk skipping: chunks carry a trigram filter of their visible text, and searches
skip chunks that cannot match; chunks of more than one block (layout 3, doc/chunk_format.md)
also carry a filter per block, and a search decodes only the blocks that may match. The answers
must be exactly those of a full scan: checked here against the lines themselves on randomised
data (ANSI colours, mixed case, the Kelvin sign that a case-insensitive regex matches for "k"),
in chunks of every layout and size (batches of 1 to 2,500 lines, merged or not), with filters
read from the store and from the server's filter cache, across clears and deletes, and on
chunks stored before filters existed."""
from __future__ import annotations

import random
import re
from typing import Any

import pytest

from conftest import Server

WORDS = ["loss", "step", "epoch", "CUDA", "out", "of", "memory", "NCCL", "timeout", "rank",
         "grad_norm", "Killed", "warning", "skipping", "update", "nan", "val_acc", "tokens/s"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def random_lines(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 9))]
        if rng.random() < 0.1:
            words[0] = "\x1b[31m" + words[0] + "\x1b[0m"
        if rng.random() < 0.01:
            words.append("needle-" + rng.choice(["alpha", "Beta", "gamma"]))
        if rng.random() < 0.005:
            words.append("\u212aelvin")  # KELVIN SIGN + "elvin": (?i)kelvin matches it
        out.append(f"{i} " + " ".join(words) + f" {rng.random():.4f}")
    return out


def visible(line: str) -> str:
    return ANSI.sub("", line)


def fill(server: Server, lines: list[str]) -> str:
    rid = server.new_run()
    for start in range(0, len(lines), 5000):
        assert server.batch(rid, lines[start:start + 5000]).status == 200
    return rid


QUERIES: list[tuple[str, str]] = [
    ("search", "needle-alpha"), ("search", "NEEDLE-beta"), ("search", "cuda out of memory"),
    ("search", "nccl timeout"), ("search", "31m"), ("search", "never-anywhere"),
    ("regex", "needle-(alpha|gamma)"), ("regex", "(?i)kelvin"), ("regex", "Killed rank"),
    ("regex", r"\d+ CUDA"), ("regex", "grad_norm.*nan"), ("regex", "[Nn]eedle-Beta"),
    ("regex", "(?i)NEEDLE-BETA"), ("regex", "^1\\d{3} "),
]


def expected(lines: list[str], kind: str, q: str) -> list[int]:
    if kind == "search":
        return [i + 1 for i, l in enumerate(lines) if q.lower() in visible(l).lower()]
    pat = re.compile(q)
    return [i + 1 for i, l in enumerate(lines) if pat.search(visible(l))]


def found(server: Server, rid: str, kind: str, q: str) -> list[int]:
    return [l["line_number"] for l in server.all_lines(rid, **{kind: q})]


@pytest.mark.parametrize("seed", [1, 2], ids=["seed1", "seed2"])
def test_filtered_search_equals_a_full_scan(server: Server, seed: int) -> None:
    lines = random_lines(40_000, seed)
    rid = fill(server, lines)
    for kind, q in QUERIES:
        assert found(server, rid, kind, q) == expected(lines, kind, q), (kind, q)
    # Counts and positions go through the same scan.
    r = server.get(f"/runs/{rid}/logs/locate", line=20_000, search="needle-alpha")
    want = expected(lines, "search", "needle-alpha")
    assert r.status == 200 and r.json()["total"] == len(want), r.body


@pytest.mark.parametrize("seed", [4, 5], ids=["seed4", "seed5"])
def test_every_chunk_layout_and_the_filter_cache_equal_a_full_scan(server: Server,
                                                                    seed: int) -> None:
    rng = random.Random(seed)
    lines = random_lines(30_000, seed)
    rid = server.new_run()
    at = 0
    # Chunks of one block (layout 1) and of many (layout 3), cut anywhere inside a block; the
    # merger packs and recompresses them while the searches below run.
    while at < len(lines):
        n = rng.choice([1, 5, 60, 127, 128, 129, 300, 999, 1000, 2500])
        assert server.batch(rid, lines[at:at + n]).status == 200
        at += n
    for _ in range(2):  # the second pass reads the filters from the cache
        for kind, q in QUERIES:
            assert found(server, rid, kind, q) == expected(lines, kind, q), (kind, q)
    # Newest first, as the viewer's first page asks.
    want = expected(lines, "search", "needle-gamma")
    r = server.get(f"/runs/{rid}/logs", search="needle-gamma", limit=7, order="desc")
    assert r.status == 200, r.body
    assert [ln["line_number"] for ln in r.json()["logs"]] == want[::-1][:7]


def test_cached_filters_follow_clears_and_deletes(server: Server) -> None:
    first = random_lines(6000, 8)
    rid = fill(server, first)
    assert found(server, rid, "search", "needle-alpha") == expected(first, "search",
                                                                   "needle-alpha")
    # Cleared, then new lines: their numbers go on after the old ones, so no cached filter
    # names them; the search sees only the new lines.
    assert server.request("DELETE", f"/runs/{rid}/logs").status == 204
    assert found(server, rid, "search", "needle-alpha") == []
    second = random_lines(6000, 9)
    assert server.batch(rid, second).status == 200
    assert found(server, rid, "search", "needle-alpha") == [
        6000 + n for n in expected(second, "search", "needle-alpha")]
    for kind, q in QUERIES:
        assert found(server, rid, kind, q) == [6000 + n for n in expected(second, kind, q)]
    assert server.request("DELETE", f"/runs/{rid}").status == 204
    assert server.get(f"/runs/{rid}/logs", search="needle-alpha").status == 404


def test_chunks_without_filters_are_scanned(make_server: Any) -> None:
    lines = random_lines(20_000, 3)
    old = make_server(["--no-text-filters"]).start()
    rid = fill(old, lines[:10_000])
    assert old.stop() == 0
    new = make_server().start()  # same data directory/store: half the chunks have no filter
    assert new.batch(rid, lines[10_000:]).status == 200
    for kind, q in QUERIES:
        assert found(new, rid, kind, q) == expected(lines, kind, q), (kind, q)
