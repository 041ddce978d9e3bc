"""`pip install wanllmdb-*.whl` gives everything: the console script runs the bundled binary,
`wanllmdb server` serves the bundled UI, console="auto" finds the bundled sidecar (a script that
SIGKILLs itself loses nothing), and the binary needs nothing from the build's -dev packages."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import ROOT, PipInstall, wait_until

# What a manylinux wheel may take from the system (the policy's libraries we can need).
# glibc's and the compiler's libraries that the manylinux policy lets a wheel take from the system
# (auditwheel does not bundle them): libresolv comes in with the bundled Kerberos of libpq.
SYSTEM_LIBS = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libresolv.so.2",
               "libutil.so.1", "libnsl.so.1", "libgcc_s.so.1", "libstdc++.so.6", "ld-linux-x86-64.so.2",
               "linux-vdso.so.1"}
if os.environ.get("WANLLMDB_WHEEL_DEV_BUILD") == "1":
    SYSTEM_LIBS |= {"libz.so.1"}  # in auditwheel's policy too; the static build links zlib in


def test_wheel_has_a_manylinux_tag_the_binary_and_the_ui(wheel: Path) -> None:
    assert re.fullmatch(r"wanllmdb-[\w.]+-py3-none-manylinux_2_\d+_x86_64(\.manylinux\w+)*\.whl", wheel.name)
    names = zipfile.ZipFile(wheel).namelist()
    assert "wanllmdb/_native/wanllmdb" in names
    assert "wanllmdb/_native/web/index.html" in names
    assert any(n.startswith("wanllmdb/_native/web/assets/") for n in names)


def test_bundled_binary_resolves_only_system_libraries_and_its_own(installed: PipInstall) -> None:
    binary = installed.native_dir() / "wanllmdb"
    ldd = subprocess.run(["ldd", str(binary)], env=installed.env(), capture_output=True, text=True, check=True)
    for line in ldd.stdout.splitlines():
        name = line.split()[0]
        where = line.split("=>")[1].split("(")[0].strip() if "=>" in line else ""
        if name in SYSTEM_LIBS or name.startswith("/lib"):
            continue
        assert where.startswith(str(installed.root)), f"{name} comes from {where or 'nowhere'}: {ldd.stdout}"
    if os.environ.get("WANLLMDB_WHEEL_DEV_BUILD") == "1":
        return  # make test packages the dev build (shared libraries throughout), not the static one
    # Our own code links libstdc++ in (Debian's is newer than most manylinux bases); only the
    # bundled simdjson (no static archive in Debian) still asks for the system's.
    needed = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    assert "libstdc++" not in needed and "libsimdjson" in needed


@pytest.fixture
def pip_server(installed: PipInstall, tmp_path: Path) -> Iterator[str]:
    proc = subprocess.Popen(["wanllmdb", "server", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "data")],
                            env=installed.env(), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=open(tmp_path / "server.log", "wb"))
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    assert line.startswith("listening on port "), (tmp_path / "server.log").read_text()
    yield f"http://127.0.0.1:{int(line.split()[-1])}"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def all_messages(base: str, run_id: str) -> list[str]:
    try:
        return [x["message"] for x in get_json(f"{base}/api/v1/runs/{run_id}/logs?limit=10000")["logs"]]
    except urllib.error.HTTPError:
        return []


def test_console_script_runs_the_bundled_binary(installed: PipInstall) -> None:
    out = subprocess.run(["wanllmdb", "--help"], env=installed.env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "server" in out.stdout and "agent" in out.stdout


def test_sigkilled_script_has_all_1000_prints_stored(installed: PipInstall, pip_server: str, tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    script = tmp_path / "train.py"
    script.write_text(f"""
import os, signal
import wanllmdb
run = wanllmdb.init(project="pip", id="{run_id}")
assert run._capture.mode == "agent", run._capture.mode
for i in range(1000):
    print("print", i)
os.kill(os.getpid(), signal.SIGKILL)
""")
    proc = subprocess.run([str(installed.python), str(script)], cwd=tmp_path, capture_output=True,
                          env=installed.env(WANLLMDB_BASE_URL=pip_server, WANLLMDB_DIR=str(tmp_path / "spool")))
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert b"native capture is not available" not in proc.stderr
    assert wait_until(lambda: get_json(f"{pip_server}/api/v1/runs/{run_id}")["state"] == "crashed", timeout=30)
    assert all_messages(pip_server, run_id)[:1000] == [f"print {i}" for i in range(1000)]


def test_wanllmdb_run_from_pip_captures_a_command(installed: PipInstall, pip_server: str, tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    proc = subprocess.run(["wanllmdb", "run", "--server", pip_server, "--project", "pip", "--id", run_id, "--",
                           "sh", "-c", "echo hello from sh; exit 3"], cwd=tmp_path, capture_output=True,
                          env=installed.env(WANLLMDB_DIR=str(tmp_path / "spool")))
    assert proc.returncode == 3
    run = get_json(f"{pip_server}/api/v1/runs/{run_id}")
    assert (run["state"], run["exit_code"]) == ("failed", 3)
    assert all_messages(pip_server, run_id) == ["hello from sh"]


def test_pip_installed_server_serves_the_ui_in_chromium(installed: PipInstall, pip_server: str, tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    req = urllib.request.Request(f"{pip_server}/api/v1/runs", method="POST",
                                 data=json.dumps({"project": "ui", "id": run_id}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).close()
    req = urllib.request.Request(f"{pip_server}/api/v1/runs/{run_id}/logs/batch", method="POST",
                                 data=json.dumps({"logs": [{"message": "shown in the browser"}]}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).close()
    check = ROOT / "tests" / "wheel" / "ui_check.mjs"
    out = subprocess.run(["node", str(check), f"{pip_server}/runs/{run_id}", "shown in the browser"],
                         cwd=ROOT / "web", capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_pure_python_sdist_says_once_how_to_get_native_capture(tmp_path: Path, pip_server: str) -> None:
    """`pip install ./sdk/python` (no binary): in-process capture, one hint on stderr."""
    import venv
    root = tmp_path / "pure"
    venv.EnvBuilder(with_pip=True).create(root)
    inst = PipInstall(root, Path())
    (root / "home").mkdir()
    src = tmp_path / "sdk-src"  # pip builds in the tree it is given: not in the repository's
    shutil.copytree(ROOT / "sdk" / "python", src, ignore=shutil.ignore_patterns("tests", "bench", "__pycache__", "*.egg-info", "build"))
    subprocess.run([str(inst.python), "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                    str(src)], env=inst.env(), check=True, cwd=tmp_path, capture_output=True)
    run_id = str(uuid.uuid4())
    script = tmp_path / "pure.py"
    script.write_text(f"""
import wanllmdb
run = wanllmdb.init(project="pure", id="{run_id}")
print("captured in-process", run._capture.mode)
wanllmdb.finish()
run = wanllmdb.init(project="pure", id="{run_id}")
wanllmdb.finish()
""")
    proc = subprocess.run([str(inst.python), str(script)], cwd=tmp_path, capture_output=True, text=True,
                          env=inst.env(WANLLMDB_BASE_URL=pip_server, WANLLMDB_DIR=str(tmp_path / "spool")))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("native capture is not available") == 1, proc.stderr
    assert "make wheel" in proc.stderr
    assert all_messages(pip_server, run_id)[0].startswith("captured in-process")
    launcher = subprocess.run(["wanllmdb", "--help"], env=inst.env(), capture_output=True, text=True)
    assert launcher.returncode == 127 and "no native wanllmdb binary" in launcher.stderr
