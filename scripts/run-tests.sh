#!/usr/bin/env bash
# Runs every suite (C++ unit, API, SDK, web unit, web end-to-end), keeps going after a failing
# suite so one run shows everything, and ends with one plain summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
passed=0; failed=0; failed_suites=()

suite() { # name, command...
  local name=$1; shift
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_suites+=("$name"); fi
  echo "=== $name: $((SECONDS - start)) s"
}

# One real PostgreSQL for the whole run (the store contract and API suites run on both stores);
# stopped however the run ends.
pg_dir=$(mktemp -d /tmp/wanllmdb-pg.XXXXXX)
if conninfo=$(scripts/pg-test-server.sh start "$pg_dir"); then
  export WANLLMDB_TEST_PG="$conninfo" WANLLMDB_TEST_PG_DIR="$pg_dir"
  trap 'scripts/pg-test-server.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
else
  echo "could not start PostgreSQL (see $pg_dir/*.log): its test cases will fail" >&2
fi

suite "C++ unit tests (ctest)" bash -c 'cd build && ctest --output-on-failure -j2'
suite "fuzz targets on their corpus (libFuzzer, a few seconds each)" scripts/run-fuzz.sh --smoke
# Two pytest-xdist workers (every test has its own server, data directory and PostgreSQL schema),
# then the few that stop or disconnect the shared PostgreSQL, alone.
api_suite() {
  local rc=0
  $PY -m pytest -q --durations=10 -n 2 -m "not serial" tests/api || rc=1
  $PY -m pytest -q --durations=5 -m serial tests/api || rc=1
  return $rc
}
suite "API tests (real binary)" api_suite
suite "capture tests (wanllmdb run / agent / sync, real processes)" $PY -m pytest -q --durations=10 -n 2 tests/capture
# The pip wheel: `make wheel` packages a static Release build of its own (the `wheel` preset);
# here the dev build's binary is packaged the same way (auditwheel bundles its shared libraries),
# so the wheel is tested without a second full build. WANLLMDB_WHEEL names a wheel to test instead.
wheel_suite() {
  local wheel=${WANLLMDB_WHEEL:-} dev=0
  if [ -z "$wheel" ]; then
    wheel=$(WANLLMDB_WHEEL_BINARY=build/wanllmdb WHEEL_DIR=$PWD/build/wheel-dist scripts/build-wheel.sh |
      tail -1) || return 1
    dev=1
  fi
  WANLLMDB_WHEEL=$wheel WANLLMDB_WHEEL_DEV_BUILD=$dev $PY -m pytest -q tests/wheel
}
suite "pip wheel (fresh venv, build tree hidden)" wheel_suite
if [ -d sdk/python/tests ]; then
  suite "Python SDK tests" $PY -m pytest -q --durations=10 sdk/python/tests
fi
if [ -f web/package.json ]; then
  suite "web unit tests (vitest)" bash -c 'cd web && npm run -s test'
  suite "web end-to-end tests (chromium)" bash -c 'cd web && npm run -s e2e'
fi
[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
