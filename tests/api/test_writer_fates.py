"""PATCH /runs/{id} with `writer` and `world_size`: one rank of a multi-process run ended (what
`wanllmdb run` sends under srun/mpirun/torchrun). The run ends once every rank has, by the same
rule as `merge` (failed over crashed over finished, the exit code of the first rank that ended
worst), and never to a better end than it already has."""
from __future__ import annotations

from typing import Any

from conftest import Server


def end(server: Server, rid: str, **body: Any) -> tuple[str, Any]:
    r = server.request("PATCH", f"/runs/{rid}", body)
    assert r.status == 200, r.body
    return r.json()["state"], r.json()["exit_code"]


def test_bad_writer_ends_are_refused_and_store_nothing(server: Server) -> None:
    rid = server.new_run()
    for body in ({"state": "running", "writer": "rank-0", "world_size": 2},
                 {"writer": "rank-0", "world_size": 2},
                 {"state": "failed", "writer": "rank-0", "world_size": 0},
                 {"state": "failed", "writer": "rank-0", "world_size": 1000001},
                 {"state": "failed", "writer": "rank-0", "world_size": "2"},
                 {"state": "failed", "writer": "x" * 129, "world_size": 2}):
        r = server.request("PATCH", f"/runs/{rid}", body)
        assert r.status in (400, 422), (body, r.status)
    # None of them counted: one rank of one is enough to end the run now.
    assert end(server, rid, state="finished", exit_code=0, writer="rank-0", world_size=1) == ("finished", 0)


def test_the_run_ends_with_the_last_rank_and_the_worst_end(server: Server) -> None:
    rid = server.new_run()
    assert end(server, rid, state="crashed", exit_code=137, writer="rank-0", world_size=3) == ("running", None)
    assert end(server, rid, state="failed", exit_code=1, writer="rank-1", world_size=3) == ("running", None)
    # A rank reporting twice is counted once (its later end replaces the first).
    assert end(server, rid, state="failed", exit_code=2, writer="rank-1", world_size=3) == ("running", None)
    assert end(server, rid, state="finished", exit_code=0, writer="rank-2", world_size=3) == ("failed", 2)
    assert server.get(f"/runs/{rid}").json()["finished_at"] is not None


def test_all_ranks_finishing_finish_the_run(server: Server) -> None:
    rid = server.new_run()
    for r in range(4):
        state = end(server, rid, state="finished", exit_code=0, writer=f"rank-{r}", world_size=4)
        assert state == (("finished", 0) if r == 3 else ("running", None))


def test_ranks_never_undo_a_worse_end_the_run_already_has(server: Server) -> None:
    rid = server.new_run()
    # The SDK in one of the processes already said failed (merge).
    assert end(server, rid, state="failed", exit_code=3, merge=True) == ("failed", 3)
    assert end(server, rid, state="finished", exit_code=0, writer="rank-0", world_size=2) == ("failed", 3)
    assert end(server, rid, state="finished", exit_code=0, writer="rank-1", world_size=2) == ("failed", 3)


def test_a_plain_patch_still_sets_the_state(server: Server) -> None:
    rid = server.new_run()
    assert end(server, rid, state="crashed", exit_code=137, writer="rank-0", world_size=2) == ("running", None)
    assert end(server, rid, state="finished", exit_code=0) == ("finished", 0)


def test_deleting_the_run_forgets_its_ranks(server: Server) -> None:
    rid = server.new_run()
    assert end(server, rid, state="failed", exit_code=1, writer="rank-0", world_size=2) == ("running", None)
    assert server.request("DELETE", f"/runs/{rid}").status == 204
    rid2 = server.new_run(id=rid)
    assert rid2 == rid
    # rank-0's failure went with the deleted run: one more rank is not the second of two.
    assert end(server, rid, state="finished", exit_code=0, writer="rank-1", world_size=2) == ("running", None)
