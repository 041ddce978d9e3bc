"""Uploader, backoff, settings and sync against an in-process stub (faults on demand)."""
from __future__ import annotations

import io
import json
import socket
import random
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from fake_server import FakeServer
from wanllmdb import structured, uploader as uploader_mod
from wanllmdb.backoff import Backoff
from wanllmdb.settings import joined_writer_name, resolve_settings
from wanllmdb.sync import sync
from wanllmdb.uploader import Uploader

RUN_ID = "6f1d6a51-7c52-4b4e-9a57-0d3f6c1c2a10"


@pytest.fixture
def stub() -> Iterator[FakeServer]:
    s = FakeServer()
    yield s
    s.close()


def make_uploader(stub: FakeServer, tmp_path: Path, offline: bool = False) -> Uploader:
    return Uploader(run_body={"project": "p", "id": RUN_ID}, writer="main", base_url=stub.url, api_key=None,
                    spool_root=str(tmp_path / "spool"), offline=offline, run_created=False)


def messages(stub: FakeServer) -> List[str]:
    return [line["message"] for line in stub.lines.get(RUN_ID, [])]


def batch_posts(stub: FakeServer) -> int:
    return sum(1 for m, p in stub.requests if m == "POST" and p.endswith("/logs/batch"))


def test_batches_by_count_and_sequence_numbers(stub: FakeServer, tmp_path: Path) -> None:
    up = make_uploader(stub, tmp_path)
    up.submit_lines([f"l{i}" for i in range(2500)], "stdout", time.time())
    assert up.flush(10)
    assert messages(stub) == [f"l{i}" for i in range(2500)]
    assert batch_posts(stub) == 3  # 1000 + 1000 + 500
    assert stub.max_seq[(RUN_ID, "main")] == 2499
    assert not (tmp_path / "spool").exists()  # nothing was ever spooled


def test_batch_leaves_200ms_after_its_first_line(stub: FakeServer, tmp_path: Path) -> None:
    up = make_uploader(stub, tmp_path)
    start = time.monotonic()
    up.submit("one line", "stdout")
    while not messages(stub) and time.monotonic() - start < 30:
        time.sleep(0.005)
    elapsed = time.monotonic() - start
    # It left by itself (no flush) and not at once: the batch waited for company. How soon it
    # leaves on a busy machine is the bench's business, not an assertion's.
    assert messages(stub) == ["one line"]
    assert elapsed >= 0.15, elapsed


def test_refused_batch_warns_once_is_skipped_and_the_rest_goes_on(stub: FakeServer, tmp_path: Path,
                                                                 capfd: pytest.CaptureFixture) -> None:
    refused: List[int] = []

    def fault(method: str, path: str) -> Optional[Tuple[int, Dict[str, str], Dict[str, Any]]]:
        if path.endswith("/logs/batch") and len(refused) < 2:
            refused.append(1)
            return 422, {}, {"error": {"code": "invalid_value", "message": "bad level"}}
        return None

    stub.fault = fault
    up = make_uploader(stub, tmp_path)
    up.submit_lines([f"l{i}" for i in range(3000)], "stdout", time.time())
    assert up.flush(10)
    assert messages(stub) == [f"l{i}" for i in range(2000, 3000)]
    err = capfd.readouterr().err
    assert err.count("refused a batch") == 1 and "invalid_value" in err


def test_5xx_and_429_are_retried_with_retry_after_and_stored_once(stub: FakeServer, tmp_path: Path) -> None:
    calls: List[str] = []

    def fault(method: str, path: str) -> Optional[Tuple[int, Dict[str, str], Dict[str, Any]]]:
        if not path.endswith("/logs/batch"):
            return None
        calls.append(path)
        if len(calls) == 1:
            return 429, {"Retry-After": "0.5"}, {"error": {"code": "busy", "message": ""}}
        if len(calls) == 2:
            # The batch is stored but the answer is lost: the retry must not duplicate it.
            stub.fault = None
            stub.dispatch("POST", path, {"writer": "main", "logs": [{"seq": i, "message": f"l{i}"} for i in range(1000)]})
            stub.fault = fault
            return 500, {}, {"error": {"code": "internal", "message": ""}}
        return None

    stub.fault = fault
    up = make_uploader(stub, tmp_path)
    start = time.monotonic()
    up.submit_lines([f"l{i}" for i in range(1500)], "stdout", time.time())
    assert up.flush(20)
    assert time.monotonic() - start >= 0.5  # Retry-After is a minimum
    assert messages(stub) == [f"l{i}" for i in range(1500)]


def test_outage_spills_to_disk_and_replays_in_order(stub: FakeServer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploader_mod, "MEMORY_LIMIT_BYTES", 200_000)
    down = {"on": True}
    stub.fault = lambda m, p: (503, {}, {"error": {"code": "down", "message": ""}}) if down["on"] else None
    up = make_uploader(stub, tmp_path)
    for i in range(50):
        up.submit_lines([f"b{i} l{j}" for j in range(400)], "stdout", time.time())
        time.sleep(0.005)
    time.sleep(0.5)
    run_dir = tmp_path / "spool" / RUN_ID
    segments = list((run_dir / "writers" / "main").glob("*.jsonl"))
    assert segments and json.loads((run_dir / "run.json").read_text())["id"] == RUN_ID
    assert up._mem_bytes <= 200_000 + 1024 * 1024  # bounded: the rest is on disk
    down["on"] = False
    assert up.flush(30)
    assert messages(stub) == [f"b{i} l{j}" for i in range(50) for j in range(400)]
    assert json.loads((run_dir / "writers" / "main" / "acked.json").read_text())["seq"] == 19999


def test_sync_sends_unacked_lines_in_seq_order_exactly_once(stub: FakeServer, tmp_path: Path) -> None:
    up = make_uploader(stub, tmp_path, offline=True)
    for i in range(30):
        up.submit_lines([f"x{i}-{j}" for j in range(100)], "stdout", time.time())
        time.sleep(0.001)
    assert up.flush(10)
    writer_dir = tmp_path / "spool" / RUN_ID / "writers" / "main"
    # Shuffle the batches inside the segment: sync must still send in seq order.
    seg = next(writer_dir.glob("*.jsonl"))
    records = seg.read_text().splitlines()
    random.Random(1).shuffle(records)
    seg.write_text("\n".join(records) + "\n")
    (writer_dir / "acked.json").write_text(json.dumps({"seq": 999}))  # pretend 1000 lines were acked
    out = io.StringIO()
    for _ in range(2):
        report = sync(str(tmp_path / "spool"), stub.url, None, out)
        assert not report.errors
    assert messages(stub) == [f"x{i}-{j}" for i in range(10, 30) for j in range(100)]
    assert json.loads((writer_dir / "acked.json").read_text())["seq"] == 2999


def test_backoff_is_capped_jittered_and_respects_retry_after() -> None:
    b = Backoff(base=0.1, cap=2.0, rng=random.Random(3))
    delays = [b.next_delay() for _ in range(20)]
    assert all(0.05 <= d <= 2.0 for d in delays)
    assert max(delays[-5:]) > 1.0 and len(set(delays)) > 10
    assert b.next_delay(retry_after=7.0) >= 7.0
    b.reset()
    assert b.next_delay() <= 0.1


def test_settings_from_environment_and_writer_names() -> None:
    env = {"WANLLMDB_BASE_URL": "http://h:1/", "WANLLMDB_API_KEY": "k", "WANLLMDB_MODE": "offline",
           "WANLLMDB_CONSOLE": "wrap", "WANLLMDB_DIR": "/tmp/x", "WANLLMDB_RUN_ID": RUN_ID.upper()}
    s = resolve_settings(project="p", name=None, config=None, tags=None, id=None, resume=False, capture_logs=True,
                         console="auto", base_url=None, api_key=None, mode=None, env=env)
    assert (s.base_url, s.api_key, s.mode, s.console, s.spool_dir) == ("http://h:1", "k", "offline", "wrap", "/tmp/x")
    assert Path(resolve_settings(project="p", name=None, config=None, tags=None, id=None, resume=False,
                                 capture_logs=True, console="auto", base_url=None, api_key=None, mode=None,
                                 env={}).spool_dir).is_absolute()
    assert s.run_id == RUN_ID and s.joining and s.run_url == "http://h:1/runs/" + RUN_ID
    s2 = resolve_settings(project="p", name="n", config={"a": 1}, tags=["t"], id=None, resume=False,
                          capture_logs=True, console="redirect", base_url="http://x", api_key=None, mode="online",
                          env=env)
    assert (s2.base_url, s2.mode, s2.console) == ("http://x", "online", "redirect")  # arguments win
    assert joined_writer_name({"RANK": "3"}, 10) == "rank-3" and joined_writer_name({}, 10) == "pid-10"
    # Every launcher's rank variable, global ranks before the node-local one.
    assert joined_writer_name({"SLURM_PROCID": "5"}, 10) == "rank-5"
    assert joined_writer_name({"OMPI_COMM_WORLD_RANK": "2"}, 10) == "rank-2"
    assert joined_writer_name({"PMI_RANK": "7"}, 10) == "rank-7"
    assert joined_writer_name({"LOCAL_RANK": "1", "SLURM_PROCID": "9"}, 10) == "rank-9"
    assert joined_writer_name({"RANK": "x", "LOCAL_RANK": "1"}, 10) == "rank-1"
    with pytest.raises(ValueError):
        resolve_settings(project="p", name=None, config=None, tags=None, id=None, resume=True, capture_logs=True,
                         console="auto", base_url=None, api_key=None, mode=None, env={})


def test_api_key_is_sent_as_bearer_and_keep_alive_reuses_one_connection(stub: FakeServer, tmp_path: Path) -> None:
    up = Uploader(run_body={"project": "p", "id": RUN_ID}, writer="main", base_url=stub.url, api_key="s3cret",
                  spool_root=str(tmp_path / "spool"), offline=False, run_created=False)
    for i in range(5):
        up.submit_lines([f"l{i}-{j}" for j in range(1000)], "stdout", time.time())
    assert up.flush(10)
    assert stub.auth_headers and set(stub.auth_headers) == {"Bearer s3cret"}
    assert len(messages(stub)) == 5000
    assert len(stub.client_ports) >= 6 and len(set(stub.client_ports)) == 1  # POST /runs + 5 batches, one socket


def test_a_server_that_never_answers_does_not_block_the_producer(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-off stays cheap while the upload thread hangs; memory stays bounded; at the end
    everything is on disk."""
    monkeypatch.setattr(uploader_mod, "MEMORY_LIMIT_BYTES", 1_000_000)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections (kernel backlog) but never reads or answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    up = Uploader(run_body={"project": "p", "id": RUN_ID}, writer="main", base_url=url, api_key=None,
                  spool_root=str(tmp_path / "spool"), offline=False, run_created=True)
    start = time.monotonic()
    for i in range(200):
        up.submit_lines([f"b{i} l{j} " + "x" * 40 for j in range(1000)], "stdout", time.time())
    elapsed = time.monotonic() - start
    assert elapsed < 5, elapsed
    assert up._mem_bytes <= 1_000_000 + 2 * 1024 * 1024
    assert up.flush(0.5) is False  # the deadline passes; the rest is spilled
    writer_dir = tmp_path / "spool" / RUN_ID / "writers" / "main"
    seqs = [line["seq"] for seg in sorted(writer_dir.glob("*.jsonl")) for rec in seg.read_text().splitlines()
            for line in json.loads(rec)["logs"]]
    assert sorted(seqs) == list(range(200_000))
    silent.close()


def test_encoded_batches_are_valid_json_for_any_message() -> None:
    rng = random.Random(5)
    alphabet = ['a', '"', '\\', '{', '}', ',', ':', '\n', '\r', '\t', '\x00', '\x1b', 'é', '日', '\U0001F600',
                '},{"seq":', ' ']
    parts = []
    for k in range(20):
        messages = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(0, 5))]
        fields = {"k": "".join(rng.choice(alphabet) for _ in range(3)), "n": k} if k % 3 == 0 else None
        parts.append((1700000000.0 + k / 7, rng.choice(["stdout", "stderr", "user"]),
                      rng.choice([None, "INFO", "ERROR"]), messages,
                      structured.extra_members("SUCCESS" if k % 4 == 0 else None, fields)))
    decoded = json.loads(uploader_mod.encode_batch("rank-3", 40, parts))
    assert decoded["writer"] == "rank-3"
    expected = [(ts, src, lvl, m) for ts, src, lvl, msgs, _ in parts for m in msgs]
    expected_extra = [(k % 4 == 0, k % 3 == 0) for k, (_, _, _, msgs, _) in enumerate(parts) for _ in msgs]
    assert [(line.get("level_name") == "SUCCESS", "fields" in line) for line in decoded["logs"]] == expected_extra
    assert [line["seq"] for line in decoded["logs"]] == list(range(40, 40 + len(expected)))
    assert [(line["timestamp"], line["source"], line.get("level"), line["message"]) for line in decoded["logs"]] == expected


def test_memory_stays_bounded_when_neither_server_nor_spool_works(stub: FakeServer, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capfd: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(uploader_mod, "MEMORY_LIMIT_BYTES", 200_000)
    stub.fault = lambda m, p: (503, {}, {"error": {"code": "down", "message": ""}})
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the spool directory should be")
    up = Uploader(run_body={"project": "p", "id": RUN_ID}, writer="main", base_url=stub.url, api_key=None,
                  spool_root=str(blocker), offline=False, run_created=True)
    for i in range(100):
        up.submit_lines([f"b{i} l{j} " + "x" * 50 for j in range(500)], "stdout", time.time())
    assert up._mem_bytes <= 2 * 200_000 + 1024 * 1024
    err = capfd.readouterr().err
    assert "cannot write the spool" in err and err.count("dropped") == 1
