"""Where the SDK finds the native binary (native.py): WANLLMDB_BIN, the wheel's bundled copy,
PATH — never our own Python console script — and the one stderr hint when there is none."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from wanllmdb import native, sdk_stderr


def executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def no_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    bundle = tmp_path / "site" / "wanllmdb" / "_native"
    monkeypatch.setattr(native, "NATIVE_DIR", bundle)
    monkeypatch.delenv("WANLLMDB_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    return bundle


def test_order_is_env_then_bundled_then_path(no_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = executable(tmp_path / "bin" / "wanllmdb")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert native.find_binary() == str(on_path)
    bundled = executable(no_bundle / "wanllmdb")
    assert native.find_binary() == str(bundled)
    named = executable(tmp_path / "elsewhere" / "wanllmdb-dev")
    monkeypatch.setenv("WANLLMDB_BIN", str(named))
    assert native.find_binary() == str(named)
    monkeypatch.setenv("WANLLMDB_BIN", str(tmp_path / "missing"))
    assert native.find_binary() is None  # a wrong explicit choice is not silently replaced


def test_our_console_script_is_not_the_binary(no_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    launcher = "#!/usr/bin/python3\nimport sys\nfrom wanllmdb.launcher import main\nsys.exit(main())\n"
    executable(tmp_path / "venv-bin" / "wanllmdb", launcher)
    real = executable(tmp_path / "usr-bin" / "wanllmdb")
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "venv-bin"), str(tmp_path / "usr-bin")]))
    assert native.find_binary() == str(real)
    monkeypatch.setenv("PATH", str(tmp_path / "venv-bin"))
    assert native.find_binary() is None


def test_missing_binary_is_explained_once(no_bundle: Path, capfd: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_stderr, "_said", set())
    monkeypatch.setattr(native, "_in_source_checkout", lambda: False)  # as when pip-installed
    for _ in range(3):
        assert native.find_binary(explain_if_missing=True) is None
    err = capfd.readouterr().err
    assert err.count("native capture is not available") == 1 and "make wheel" in err


def test_a_source_checkout_is_not_advised(no_bundle: Path, capfd: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_stderr, "_said", set())
    assert native._in_source_checkout()  # these tests run from sdk/python
    assert native.find_binary(explain_if_missing=True) is None
    assert "native capture" not in capfd.readouterr().err
