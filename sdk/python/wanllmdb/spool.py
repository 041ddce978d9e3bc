"""The disk spool: where lines wait while the server is unreachable, and all of an offline run.

Format (doc/spool_format.md is the normative description; the C++ `wanllmdb sync` reads it too):

    <spool dir>/<run id>/run.json                      the POST /runs body, including "id"
    <spool dir>/<run id>/final.json                    {"state", "exit_code", "applied"}: the run's end
    <spool dir>/<run id>/writers/<writer>/NNNNNN.jsonl append-only segments; one line = one batch,
                                                        exactly a POST .../logs/batch body
    <spool dir>/<run id>/writers/<writer>/acked.json   {"seq": N}: highest seq the server acknowledged

Each writer (process) owns its directory, so processes of one run never write the same file.
Small files are replaced atomically (write a temporary file, then rename).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

SEGMENT_MAX_BYTES = 64 * 1024 * 1024
_WRITER_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def write_json_atomic(path: Path, value: Any) -> None:
    """Replaces a small JSON file so that readers see the old or the new content, never a mix."""
    tmp = path.with_name(path.name + ".tmp." + str(os.getpid()))
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Optional[Any]:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def valid_writer_name(name: str) -> bool:
    return bool(_WRITER_NAME.match(name)) and name not in (".", "..")


@dataclass(frozen=True)
class DiskRef:
    """Where one spilled batch lives: a byte range of a segment file."""

    path: str
    offset: int
    length: int


class RunSpool:
    """The spool directory of one run. Thread-safety: none; the owner serializes calls."""

    def __init__(self, root: str, run_body: Dict[str, Any]) -> None:
        self.dir = Path(root) / str(run_body["id"])
        self._run_body = run_body

    def ensure(self) -> None:
        """Creates the run directory and its run.json (idempotent)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        run_json = self.dir / "run.json"
        if not run_json.exists():
            write_json_atomic(run_json, self._run_body)

    def exists(self) -> bool:
        return (self.dir / "run.json").exists()

    def write_final(self, state: str, exit_code: Optional[int]) -> None:
        """Records how the run ended, for `sync` to apply (PATCH /runs/{id})."""
        self.ensure()
        write_json_atomic(self.dir / "final.json", {"state": state, "exit_code": exit_code, "applied": False})

    def writer(self, name: str) -> "WriterSpool":
        return WriterSpool(self, name)


class WriterSpool:
    """Segments and acknowledged seq of one writer. Thread-safety: none; the uploader's lock guards it."""

    def __init__(self, run: RunSpool, name: str) -> None:
        if not valid_writer_name(name):
            raise ValueError(f"bad writer name {name!r}")
        self.run = run
        self.name = name
        self.dir = run.dir / "writers" / name
        self._file: Optional[Any] = None
        self._file_path = ""
        self._file_size = 0

    @property
    def created(self) -> bool:
        return self._file is not None

    def _open_segment(self) -> None:
        self.run.ensure()
        self.dir.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.stem) for p in self.dir.glob("*.jsonl") if p.stem.isdigit()]
        path = self.dir / f"{max(numbers, default=0) + 1:06d}.jsonl"
        if self._file is not None:
            self._file.close()
        self._file = open(path, "ab")
        self._file_path = str(path)
        self._file_size = 0

    def append(self, batch: bytes) -> DiskRef:
        """Appends one batch (a JSON document without newline) and returns where it is."""
        if self._file is None or self._file_size > SEGMENT_MAX_BYTES:
            self._open_segment()
        assert self._file is not None
        offset = self._file_size
        self._file.write(batch + b"\n")
        # Flushed to the OS at once: a process that dies keeps what it spooled (fsync at close).
        self._file.flush()
        self._file_size += len(batch) + 1
        return DiskRef(self._file_path, offset, len(batch))

    @staticmethod
    def read(ref: DiskRef) -> bytes:
        with open(ref.path, "rb") as f:
            f.seek(ref.offset)
            return f.read(ref.length)

    def set_acked(self, seq: int) -> None:
        if self._file is None:
            return  # nothing was ever spooled: nothing for sync to skip
        write_json_atomic(self.dir / "acked.json", {"seq": seq})

    def sync_to_disk(self) -> None:
        if self._file is not None:
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError:
                pass

    def forget(self) -> None:
        """After fork: the child must not append to the parent's segment."""
        self._file = None
        self._file_path = ""
        self._file_size = 0


def read_acked(writer_dir: Path) -> int:
    value = read_json(writer_dir / "acked.json")
    if isinstance(value, dict) and isinstance(value.get("seq"), int):
        return value["seq"]
    return -1


def read_batches(writer_dir: Path) -> Iterator[Tuple[Path, Dict[str, Any]]]:
    """Every batch of a writer, segment by segment. A torn last line (a crash mid-write) is skipped."""
    for seg in sorted(p for p in writer_dir.glob("*.jsonl") if p.stem.isdigit()):
        with open(seg, "rb") as f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    break
                try:
                    batch = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(batch, dict) and isinstance(batch.get("logs"), list):
                    yield seg, batch


def find_run_dirs(path: Path) -> List[Path]:
    """A run directory itself, or every run directory below a spool directory."""
    if (path / "run.json").is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and (p / "run.json").is_file()) if path.is_dir() else []
