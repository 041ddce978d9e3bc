"""`srun wanllmdb run --id $RUN -- CMD` on N tasks (and mpirun, torchrun, MPICH): one run with
writers rank-0..N-1 that ends when every rank has ended, failed if any failed. The wrappers get
the variables each launcher really sets for its processes."""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import api_conftest
from api_conftest import postgres, store_args  # noqa: F401  (fixtures: both stores, as tests/api)
from conftest import BINARY, without_unbuffered

N = 3
LAUNCHER_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR",
                 "MASTER_PORT", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS",
                 "SLURM_NODEID", "SLURM_JOB_ID", "SLURM_STEP_ID", "OMPI_COMM_WORLD_RANK",
                 "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE",
                 "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS")


def torchrun(rank: int, n: int) -> dict[str, str]:
    return {"RANK": str(rank), "WORLD_SIZE": str(n), "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": str(n),
            "GROUP_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}


def srun(rank: int, n: int) -> dict[str, str]:
    # Inside an allocation of 16 tasks, a step of n: the step's size is what counts.
    return {"SLURM_PROCID": str(rank), "SLURM_LOCALID": str(rank), "SLURM_NTASKS": "16",
            "SLURM_STEP_NUM_TASKS": str(n), "SLURM_NODEID": "0", "SLURM_JOB_ID": "4242", "SLURM_STEP_ID": "0"}


def mpirun(rank: int, n: int) -> dict[str, str]:
    return {"OMPI_COMM_WORLD_RANK": str(rank), "OMPI_COMM_WORLD_SIZE": str(n),
            "OMPI_COMM_WORLD_LOCAL_RANK": str(rank), "OMPI_COMM_WORLD_LOCAL_SIZE": str(n)}


def mpich(rank: int, n: int) -> dict[str, str]:
    return {"PMI_RANK": str(rank), "PMI_SIZE": str(n), "MPI_LOCALRANKID": str(rank), "MPI_LOCALNRANKS": str(n)}


LAUNCHERS: dict[str, Callable[[int, int], dict[str, str]]] = {
    "torchrun": torchrun, "srun": srun, "mpirun": mpirun, "mpich": mpich}


@pytest.fixture
def server(tmp_path: Path, store_args: list[str]) -> Iterator[Any]:
    """The ranks' ends are counted by the store: on SQLite and on PostgreSQL."""
    s = api_conftest.Server(tmp_path, store_args).start()
    yield s
    if s.proc and s.proc.poll() is None:
        s.stop()


def start_ranks(server: Any, tmp_path: Path, launcher: str, run_id: str, script: str) -> list[subprocess.Popen[bytes]]:
    procs = []
    for rank in range(N):
        env = {k: v for k, v in without_unbuffered().items() if k not in LAUNCHER_VARS}
        env.update(LAUNCHERS[launcher](rank, N))
        env.update({"WANLLMDB_DIR": str(tmp_path / f"spool-{rank}"), "WANLLMDB_EXIT_TIMEOUT": "20"})
        procs.append(subprocess.Popen(
            [str(BINARY), "run", "--server", server.base, "--project", "ranks", "--id", run_id, "--",
             "sh", "-c", script.replace("RANK_NO", str(rank))],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    return procs


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_n_wrappers_make_one_run_that_ends_with_the_last_rank(server: Any, tmp_path: Path, launcher: str) -> None:
    run_id = str(uuid.uuid4())
    gate = tmp_path / "gate"
    # The last rank waits for the gate (polled by the child program, not by the test).
    procs = start_ranks(server, tmp_path, launcher, run_id,
                        f'echo "hello from RANK_NO"; [ RANK_NO = {N - 1} ] && '
                        f'while [ ! -e {gate} ]; do sleep 0.02; done; exit 0')
    for p in procs[:-1]:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    # Every other rank has ended (and reported it before exiting): the run is still running.
    assert server.get(f"/runs/{run_id}").json()["state"] == "running"
    gate.touch()
    out, err = procs[-1].communicate(timeout=60)
    assert procs[-1].returncode == 0, err
    run = server.get(f"/runs/{run_id}").json()
    assert (run["state"], run["exit_code"]) == ("finished", 0)
    lines = server.all_lines(run_id)
    assert sorted((x["writer"], x["message"]) for x in lines) == [
        (f"rank-{r}", f"hello from {r}") for r in range(N)]


@pytest.mark.parametrize("launcher", ["srun", "torchrun"])
def test_the_run_fails_if_any_rank_failed(server: Any, tmp_path: Path, launcher: str) -> None:
    run_id = str(uuid.uuid4())
    procs = start_ranks(server, tmp_path, launcher, run_id, 'echo "rank RANK_NO"; [ RANK_NO = 1 ] && exit 7; exit 0')
    codes = [p.wait(timeout=60) for p in procs]
    assert codes == [0, 7, 0]
    run = server.get(f"/runs/{run_id}").json()
    assert (run["state"], run["exit_code"]) == ("failed", 7)
    assert {x["writer"] for x in server.all_lines(run_id)} == {"rank-0", "rank-1", "rank-2"}
