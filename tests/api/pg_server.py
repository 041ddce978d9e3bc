"""A real PostgreSQL 15 for the tests, run by scripts/pg-test-server.sh (initdb + pg_ctl in a
temporary directory, on a free port, as an unprivileged user). Each test gets its own schema,
so tests never see each other's runs."""
from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "pg-test-server.sh"
PSQL = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")) / "psql"


class PgServer:
    def __init__(self, directory: Path, conninfo: str, owned: bool) -> None:
        self.dir = directory
        self.conninfo = conninfo
        self.owned = owned  # started here: stopped at the end of the session

    @classmethod
    def start(cls) -> "PgServer":
        """The cluster `make test` started (WANLLMDB_TEST_PG_DIR), else a new one."""
        existing = os.environ.get("WANLLMDB_TEST_PG_DIR")
        if existing and os.environ.get("WANLLMDB_TEST_PG"):
            return cls(Path(existing), os.environ["WANLLMDB_TEST_PG"], owned=False)
        directory = Path(tempfile.mkdtemp(prefix="wanllmdb-pg-"))
        out = subprocess.run([str(SCRIPT), "start", str(directory)], check=True,
                             capture_output=True, text=True, timeout=180)
        return cls(directory, out.stdout.strip().splitlines()[-1], owned=True)

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.dir)], check=True, timeout=120)

    def restart(self) -> None:
        subprocess.run([str(SCRIPT), "restart", str(self.dir)], check=True, timeout=120)

    def close(self) -> None:
        if self.owned:
            self.stop()

    def new_schema(self) -> str:
        """A fresh, empty schema; the returned conninfo puts it first on the search path."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.sql(f"CREATE SCHEMA {name}")
        return f"{self.conninfo} options='-c search_path={name}'"

    def sql(self, query: str, conninfo: Optional[str] = None) -> str:
        out = subprocess.run([str(PSQL), conninfo or self.conninfo, "-qAtX", "-v",
                              "ON_ERROR_STOP=1", "-c", query],
                             check=True, capture_output=True, text=True, timeout=120)
        return out.stdout.strip()
