#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset, in build-fuzz/) through the shared build lock
# and runs each of them (tests/fuzz/<name>_fuzz.cpp, seeds in tests/fuzz/corpus/<name>/).
#
#   scripts/run-fuzz.sh          `make fuzz`: each target until FUZZ_RUNS executions (10 million)
#                                or FUZZ_SECONDS (300) have passed, whichever comes first; new
#                                inputs go to build-fuzz/fuzz-corpus/<name>/ and are reused.
#   scripts/run-fuzz.sh --smoke  `make test`: each target replays its checked-in corpus, then
#                                fuzzes for FUZZ_SMOKE_SECONDS (2) from a fixed seed.
# FUZZ_TARGETS="matcher spool" limits the run. Crashes are written to
# build-fuzz/fuzz-artifacts/<name>/ (reproduce: build-fuzz/fuzz/<name>_fuzz <file>).
# Exit status: non-zero when a target crashed, leaked, hung or did not build.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=build-fuzz
mode=full
[ "${1:-}" = --smoke ] && mode=smoke

if [ ! -f $build/build.ninja ]; then
  cmake --preset fuzz >/dev/null || { echo "run-fuzz: cannot configure the fuzz preset (clang?)" >&2; exit 1; }
fi
CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} flock /tmp/wanllmdb-build.lock \
  cmake --build $build --target fuzzers -j2 || { echo "run-fuzz: build failed" >&2; exit 1; }

targets=${FUZZ_TARGETS:-$(cd tests/fuzz && ls ./*_fuzz.cpp | sed 's|^\./||; s|_fuzz\.cpp$||')}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
summary=()
for t in $targets; do
  bin=$build/fuzz/${t}_fuzz
  seeds=tests/fuzz/corpus/$t
  artifacts=$build/fuzz-artifacts/$t/
  mkdir -p "$artifacts" "$seeds"
  args=(-timeout=30 -print_final_stats=1 -artifact_prefix="$artifacts")
  [ -f tests/fuzz/dict/$t.dict ] && args+=(-dict=tests/fuzz/dict/$t.dict)
  if [ $mode = smoke ]; then
    corpus=$scratch/$t
    args+=(-seed=1 -max_total_time="${FUZZ_SMOKE_SECONDS:-2}")
  else
    corpus=$build/fuzz-corpus/$t
    args+=(-runs="${FUZZ_RUNS:-10000000}" -max_total_time="${FUZZ_SECONDS:-300}")
  fi
  mkdir -p "$corpus"
  log=$scratch/$t.log
  echo "--- $t"
  if "$bin" "${args[@]}" "$corpus" "$seeds" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    failed+=("$t")
    grep -E 'ERROR|FUZZ_CHECK|SUMMARY|Test unit written|#[0-9]+ *(DONE|INITED)' "$log" | head -40
    tail -5 "$log"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  summary+=("$(printf '%-16s %12s execs %9s/s  %s' "$t" "${execs:-?}" "${rate:-?}" "$result")")
done
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets failed: ${failed[*]} (inputs in $build/fuzz-artifacts/)"
  exit 1
fi
