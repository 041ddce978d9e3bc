"""The pip wheel (`make wheel`) installed into a fresh virtualenv, with the build tree hidden:
PATH holds only the venv and the system's directories, no LD_LIBRARY_PATH, no WANLLMDB_BIN.
The wheel is built once per session; scripts/build-wheel.sh skips packaging when its inputs are
unchanged, so a second session pays only for the venv."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location("api_conftest", ROOT / "tests" / "api" / "conftest.py")
assert _spec is not None and _spec.loader is not None
api_conftest = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("api_conftest", api_conftest)
_spec.loader.exec_module(api_conftest)
wait_until = api_conftest.wait_until


class PipInstall:
    def __init__(self, root: Path, wheel: Path) -> None:
        self.root = root
        self.wheel = wheel
        self.bin = root / "bin"
        self.python = self.bin / "python"

    def env(self, **extra: str) -> dict[str, str]:
        """A user's shell after `pip install`: nothing of the build tree on PATH or the loader."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("LD_LIBRARY_PATH", "WANLLMDB_BIN", "PYTHONPATH", "VIRTUAL_ENV",
                            "PYTHONUNBUFFERED", "WANLLMDB_BINARY")}
        env["PATH"] = os.pathsep.join([str(self.bin), "/usr/local/bin", "/usr/bin", "/bin"])
        env["HOME"] = str(self.root / "home")
        env.update(extra)
        return env

    def native_dir(self) -> Path:
        out = subprocess.run([str(self.python), "-c", "import wanllmdb.native as n; print(n.NATIVE_DIR)"],
                             env=self.env(), cwd=self.root, capture_output=True, text=True, check=True)
        return Path(out.stdout.strip())


@pytest.fixture(scope="session")
def wheel() -> Path:
    if os.environ.get("WANLLMDB_WHEEL"):  # a wheel built elsewhere (CI artefact)
        return Path(os.environ["WANLLMDB_WHEEL"])
    out = subprocess.run([str(ROOT / "scripts" / "build-wheel.sh")], cwd=ROOT, stdout=subprocess.PIPE,
                         text=True, check=True)
    path = Path(out.stdout.strip().splitlines()[-1])
    assert path.is_file(), out.stdout
    return path


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipInstall]:
    root = tmp_path_factory.mktemp("pip-venv")
    venv.EnvBuilder(with_pip=True).create(root)
    (root / "home").mkdir()
    inst = PipInstall(root, wheel)
    subprocess.run([str(inst.python), "-m", "pip", "install", "-q", "--no-index",
                    "--disable-pip-version-check", str(wheel)], env=inst.env(), cwd=root, check=True)
    yield inst
