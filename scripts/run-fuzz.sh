#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset, in build-fuzz/) through the shared build lock
# and runs each of them (tests/fuzz/<name>_fuzz.cpp, seeds in tests/fuzz/corpus/<name>/).
#
#   scripts/run-fuzz.sh          `make fuzz`: each target until FUZZ_RUNS executions (10 million)
#                                or its time limit (the table below; FUZZ_SECONDS overrides it
#                                for every target) has passed, whichever comes first; new inputs
#                                go to build-fuzz/fuzz-corpus/<name>/ and are reused. FUZZ_JOBS
#                                targets run side by side (default: one per core).
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

# Full mode's time limit per target: 10 million executions at the rate the target keeps once its
# inputs reach -max_len (measured with -len_control=0 on the 2-core development machine while it
# was shared, ASan + UBSan + coverage; the rate in the comment), with a margin of about 1.2. Only
# a limit: a faster machine stops every target at FUZZ_RUNS first. Unlisted targets get 300 s.
# All of them at these rates: about 10 hours of one core, about 5 on two (FUZZ_JOBS).
# "on 12-03": averages of whole 10M runs with malloc_context_size=0 (below), two or three
# targets sharing the two cores.
declare -A limit=(
  [chunk_codec]=1800      # ~6,600 inputs/s: compresses, decodes twice, re-encodes, decodes (8,103/s on 12-03)
  [foreign_ingest]=800    # ~16,500-21,000/s
  [forwarded]=400         # ~33,000/s
  [json_batch]=1200       # ~9,900/s (16,000/s on a quieter day)
  [level_detector]=5000   # ~2,400/s: every line through every layout rule, three times (6,321/s on 12-03)
  [line_assembler]=6600   # ~1,800/s: byte-sized feeds through the terminal model, twice (3,302/s on 12-03)
  [matcher]=5200          # ~2,300/s: compiles an RE2 and a text probe per input (2,410/s on 12-03, shared)
  [problem_rules]=5200    # ~2,300/s: every line through the rules, some inputs compile an RE2 (1,550/s on 12-03, shared)
  [query]=5200            # ~2,300/s: compiles the filter's matcher per input (2,103/s on 12-03, shared)
  [spool]=1750            # ~6,900-9,300/s at -max_len 1024 (2,250/s at 4096): a simdjson parse per record, twice
  [static_files]=2300     # ~5,200/s
  [structured_line]=1600  # ~7,500-11,000/s
)
# -max_len where libFuzzer's default (4096 bytes) mostly slows a target down: both spend their
# time per byte, and 1 KiB still holds a 24-row redraw with cuts up to 1 KiB (line_assembler's
# cut goes from 16 bytes), or a traceback's worth of lines (level_detector). At 4096:
# line_assembler ~970/s, level_detector ~1,000/s. Keep it above every seed (libFuzzer truncates
# longer inputs).
declare -A max_len=(
  [level_detector]=1024
  [line_assembler]=1024
  [spool]=1024  # still a dozen records over several segments
)

# Full mode records no allocation stack per malloc (ASan's default keeps 30 frames of each): the
# regex targets spend a third of their time there (RE2 compiles allocate a lot), and a finding
# is still caught at once. Replaying its input (`build-fuzz/fuzz/<name>_fuzz <file>`, default
# options) prints the full report with allocation stacks. An ASAN_OPTIONS already set wins.
if [ $mode = full ] && [ -z "${ASAN_OPTIONS:-}" ]; then
  export ASAN_OPTIONS=malloc_context_size=0
fi

targets=${FUZZ_TARGETS:-$(cd tests/fuzz && ls ./*_fuzz.cpp | sed 's|^\./||; s|_fuzz\.cpp$||')}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Runs one target; its summary line goes to $scratch/<name>.summary, and its exit status says
# whether it failed.
fuzz_one() {
  local t=$1
  local bin=$build/fuzz/${t}_fuzz
  local seeds=tests/fuzz/corpus/$t
  local artifacts=$build/fuzz-artifacts/$t/
  mkdir -p "$artifacts" "$seeds"
  local args=(-timeout=30 -print_final_stats=1 -artifact_prefix="$artifacts")
  [ -f tests/fuzz/dict/$t.dict ] && args+=(-dict=tests/fuzz/dict/$t.dict)
  [ -n "${max_len[$t]:-}" ] && args+=(-max_len="${max_len[$t]}")
  local corpus log seconds
  if [ $mode = smoke ]; then
    corpus=$scratch/$t
    args+=(-seed=1 -max_total_time="${FUZZ_SMOKE_SECONDS:-2}")
  else
    corpus=$build/fuzz-corpus/$t
    seconds=${FUZZ_SECONDS:-${limit[$t]:-300}}
    args+=(-runs="${FUZZ_RUNS:-10000000}" -max_total_time="$seconds")
  fi
  mkdir -p "$corpus"
  # Full mode keeps each target's log (build-fuzz/fuzz-logs/): an interrupted `make fuzz` still
  # tells how far every finished target got.
  if [ $mode = smoke ]; then
    log=$scratch/$t.log
    echo "--- $t"
  else
    mkdir -p $build/fuzz-logs
    log=$build/fuzz-logs/$t.log
    echo "--- $t (at most ${seconds} s, from $(date -u +%H:%M:%S) UTC)"
  fi
  local result=ok status=0
  if ! "$bin" "${args[@]}" "$corpus" "$seeds" >"$log" 2>&1; then
    result=FAILED
    status=1
    # One write, so that targets running side by side do not interleave their reports.
    local report
    report=$(echo "--- $t FAILED:"
      grep -E 'ERROR|FUZZ_CHECK|SUMMARY|Test unit written|#[0-9]+ *(DONE|INITED)' "$log" | head -40
      tail -5 "$log")
    echo "$report"
  fi
  local execs rate short=
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  # Full mode: a target stopped by its time limit before FUZZ_RUNS says so (not a failure).
  if [ $mode = full ] && [ -n "$execs" ] && [ "$execs" -lt "${FUZZ_RUNS:-10000000}" ]; then
    short="  (time limit: short of ${FUZZ_RUNS:-10000000})"
  fi
  printf '%-16s %12s execs %9s/s  %s%s\n' "$t" "${execs:-?}" "${rate:-?}" "$result" "$short" \
    >"$scratch/$t.summary"
  [ $mode = full ] && echo "    $(cat "$scratch/$t.summary")"  # as each target ends
  return $status
}

# Full mode runs FUZZ_JOBS targets side by side (default: one per core), each a single
# libFuzzer process on its own core, so `make fuzz` takes about the sum of the limits divided by
# the cores. The smoke run in `make test` stays one target at a time: it is short, and CI's
# other work needs the second core.
jobs=1
[ $mode = full ] && jobs=${FUZZ_JOBS:-$(nproc)}
running=0
for t in $targets; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait

failed=()
for t in $targets; do
  if [ ! -f "$scratch/$t.summary" ]; then
    echo "$t: did not run"
    failed+=("$t")
  else
    cat "$scratch/$t.summary"
    grep -q ' FAILED' "$scratch/$t.summary" && failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets failed: ${failed[*]} (inputs in $build/fuzz-artifacts/)"
  exit 1
fi
