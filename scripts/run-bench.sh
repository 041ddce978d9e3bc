#!/usr/bin/env bash
# `make bench`: every benchmark of the issues, printing figures next to their goals. Nothing here
# asserts a figure: a slow machine prints slow numbers, it does not fail.
set -uo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # 1,000 viewers need 2,000+ descriptors
PY=.venv/bin/python
CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} flock /tmp/wanllmdb-build.lock cmake --build build \
  --target benches || { echo "run-bench: cannot build the bench drivers" >&2; exit 1; }
echo "### store (bench_store)"
store_out=$(build/bench_store "${TMPDIR:-/tmp}/wanllmdb-bench-store" | tee /dev/stderr)
rows=$(echo "$store_out" | sed -n 's/^row-per-line SQLite table (original plan): \([0-9]*\) lines.*/\1/p')
echo
echo "### server (HTTP ingest with wrk, live tail with bench_ws)"
$PY bench/server_bench.py "$rows"
echo
echo "### security (issue 8): auth overhead, /health under full scans"
(cd bench && ../$PY security_bench.py)
echo
echo "### search at scale (issue 14): text filters"
(cd bench && ../$PY search_bench.py)
echo
echo "### search at scale (issue 14): a whole project, and ingest while searches run"
(cd bench && ../$PY project_search_bench.py "${PROJECT_BENCH_RUNS:-1000}" "${PROJECT_BENCH_LINES:-100000}")
echo
echo "### structured lines (issue 13): field parsing cost, field filters"
(cd bench && ../$PY structured_bench.py "${STRUCTURED_BENCH_LINES:-1000000}")
echo
echo "### problems found for you (issue 13): ingest with and without detection"
(cd bench && ../$PY problem_bench.py "${PROBLEM_BENCH_LINES:-2000000}")
echo
echo "### alerts (issue 13): first problem -> webhook delivered"
(cd bench && ../$PY alert_bench.py)
echo
echo "### retention sweep (issue 12): lines/s removed, ingest during the sweep, space back"
$PY bench/retention_bench.py
echo
echo "### backup (issue 12): admin backup of a large store, ingest during it"
$PY bench/backup_bench.py
echo
echo "### team server: PostgreSQL store, two nodes (issue 10)"
$PY bench/pg_bench.py
echo
echo "### capture (wanllmdb run)"
$PY bench/capture_bench.py
if [ -f sdk/python/bench/capture_overhead.py ]; then
  echo
  echo "### Python SDK"
  $PY sdk/python/bench/capture_overhead.py
fi
if [ -f web/package.json ]; then
  echo
  echo "### web UI (Chromium)"
  (cd web && npm run -s bench)
fi
