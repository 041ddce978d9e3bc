"""A full disk is an expected condition: ingest answers 507 with a clear message and stores
nothing of the failed batch, reads and live viewers keep working, nothing already stored is
damaged, and ingest works again once space is freed. Uses a small tmpfs as the data directory."""
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import Server


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); needs root or CAP_SYS_ADMIN")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.sqlite_only("the data directory is the small disk; PostgreSQL keeps its own")
def test_full_disk_is_507_and_recovers(make_server: Any, small_disk: Path) -> None:
    server: Server = make_server(data_dir=small_disk).start()
    rid = server.new_run()
    assert server.batch(rid, ["stored before the disk filled"]).status == 200
    filler = small_disk / "filler"
    with open(filler, "wb") as f:  # fill what is left of the disk
        try:
            while True:
                f.write(os.urandom(1 << 16))
                f.flush()
        except OSError:
            pass
    statuses = []
    noise = [uuid.uuid4().hex * 40 for _ in range(2000)]  # incompressible: must hit the disk
    for k in range(5):
        r = server.batch(rid, noise, writer=f"w{k}")
        statuses.append(r.status)
        if r.status == 507:
            err = r.json()["error"]
            assert err["code"] == "insufficient_storage" and "disk is full" in err["message"]
            break
    assert 507 in statuses, statuses
    # Reads still work, and what was stored before is intact.
    lines = server.all_lines(rid)
    assert lines[0]["message"] == "stored before the disk filled"
    assert server.get("/health").status == 200
    accepted = sum(1 for s in statuses if s == 200) * len(noise)
    assert len(lines) == 1 + accepted  # the refused batch left nothing behind
    filler.unlink()
    r = server.batch(rid, ["after space came back"], writer="late")
    assert r.status == 200, r.body
    assert server.all_lines(rid)[-1]["message"] == "after space came back"
