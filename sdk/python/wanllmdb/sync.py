"""`python -m wanllmdb sync DIR`: uploads spooled runs (offline runs, or lines left by an outage).

Exactly once, however often it runs: every batch line carries its writer's seq, acknowledged seqs
are recorded in writers/<writer>/acked.json after each batch, and the server skips seqs it has.
A run's end (final.json) is applied after its lines, then marked applied.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .api_client import ApiClient, Response, TransportError
from .backoff import Backoff
from .spool import find_run_dirs, read_acked, read_batches, read_json, valid_writer_name, write_json_atomic

MAX_ATTEMPTS = 8


@dataclass
class SyncReport:
    runs: int = 0
    lines_sent: int = 0
    lines_skipped: int = 0  # already acknowledged earlier
    errors: List[str] = field(default_factory=list)


class SyncError(Exception):
    pass


def _call(client: ApiClient, what: str, fn: Any) -> Response:
    """Retries transport errors, 5xx and 429 a few times; returns any other answer."""
    backoff = Backoff(base=0.25, cap=4.0)
    last = ""
    for _ in range(MAX_ATTEMPTS):
        try:
            resp = fn()
        except TransportError as e:
            last = str(e)
            time.sleep(backoff.next_delay())
            continue
        if resp.retryable:
            last = resp.error_text()
            time.sleep(backoff.next_delay(resp.retry_after))
            continue
        return resp
    raise SyncError(f"{what}: server unreachable ({last})")


def _writer_batches(writer_dir: Path, acked: int) -> List[Tuple[int, List[Dict[str, Any]]]]:
    """The writer's unacknowledged lines as batches, in seq order (whatever the file order)."""
    batches: List[Tuple[int, List[Dict[str, Any]]]] = []
    for _seg, batch in read_batches(writer_dir):
        logs = [line for line in batch["logs"] if isinstance(line, dict) and isinstance(line.get("seq"), int)
                and line["seq"] > acked]
        if logs:
            logs.sort(key=lambda line: line["seq"])
            batches.append((logs[0]["seq"], logs))
    batches.sort(key=lambda b: b[0])
    return batches


def sync_run(run_dir: Path, client: ApiClient, report: SyncReport, out: Any) -> None:
    run_body = read_json(run_dir / "run.json")
    if not isinstance(run_body, dict) or not isinstance(run_body.get("id"), str):
        raise SyncError(f"{run_dir}: run.json is missing or invalid")
    run_id = run_body["id"]
    resp = _call(client, f"create run {run_id}", lambda: client.create_run(run_body))
    if not resp.ok:
        raise SyncError(f"{run_dir}: the server refused the run ({resp.error_text()})")
    writers_dir = run_dir / "writers"
    writer_dirs = sorted(p for p in writers_dir.iterdir() if p.is_dir()) if writers_dir.is_dir() else []
    for writer_dir in writer_dirs:
        writer = writer_dir.name
        if not valid_writer_name(writer):
            continue
        acked = read_acked(writer_dir)
        sent = 0
        for _first, logs in _writer_batches(writer_dir, acked):
            logs = [line for line in logs if line["seq"] > acked]
            if not logs:
                continue
            body = json.dumps({"writer": writer, "logs": logs}, ensure_ascii=False).encode("utf-8", "surrogatepass")
            resp = _call(client, f"upload {writer}", lambda: client.post_batch(run_id, body))
            if not resp.ok:
                report.errors.append(f"{run_dir.name}/{writer}: batch of {len(logs)} lines refused "
                                     f"({resp.error_text()}); skipped")
            else:
                sent += len(logs)
            acked = logs[-1]["seq"]
            write_json_atomic(writer_dir / "acked.json", {"seq": acked})
        report.lines_sent += sent
        print(f"{run_id} {writer}: {sent} lines uploaded", file=out)
    final = read_json(run_dir / "final.json")
    if isinstance(final, dict) and not final.get("applied") and isinstance(final.get("state"), str):
        resp = _call(client, f"finish run {run_id}",
                     lambda: client.set_run_state(run_id, final["state"], final.get("exit_code")))
        if resp.ok:
            final["applied"] = True
            write_json_atomic(run_dir / "final.json", final)
        else:
            report.errors.append(f"{run_id}: setting state {final['state']} refused ({resp.error_text()})")
    report.runs += 1


def sync(path: str, base_url: str, api_key: Optional[str], out: Any) -> SyncReport:
    """Uploads every run below path (a spool directory or one run's directory)."""
    report = SyncReport()
    run_dirs = find_run_dirs(Path(path))
    if not run_dirs:
        report.errors.append(f"{path}: no spooled runs found")
        return report
    client = ApiClient(base_url, api_key)
    try:
        for run_dir in run_dirs:
            try:
                sync_run(run_dir, client, report, out)
            except (SyncError, OSError) as e:
                report.errors.append(str(e))
    finally:
        client.close()
    return report
