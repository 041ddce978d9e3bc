// StoreCheck: `wanllmdb admin check [--repair]` (doc/operations.md), the same for every backend:
// it reads the raw rows through LogStore's audit methods (store/store_audit.h) and compares.
//
// What is checked, per run, on one read snapshot of it:
//   - every chunk decodes (core/chunk_codec.h, the one decoder) with the known codec, and holds
//     as many lines as its key range says;
//   - each chunk's metadata columns (n_lines, time range, level/source masks, level counts,
//     raw bytes, writer mask) and its text filter are what its lines give (the rules of
//     store/chunk_writer.h and core/text_filter.h);
//   - the chunks' line ranges are disjoint and dense: no line in two chunks, no hole between
//     the first and the last chunk, and the last chunk ends at the run's last assigned line;
//   - the run's counters (total, bytes, counts by level and source, first/last timestamp,
//     first line, next line) and each writer's line count equal the sums over its chunks;
//   - no chunk or writer row names a run that does not exist.
// Repairable (counters rebuilt from the chunks): counters, writer line counts, chunk metadata
// and text filters, and a next line that would reuse numbers. Not repairable (nothing is
// deleted or invented; restore from a backup): chunks that do not decode, overlapping ranges,
// missing lines, orphans. Counters are rebuilt only when every chunk of the run decodes and the
// ranges are sound, so a repair never writes totals from half a run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "store/log_store.h"

namespace wanllmdb {

struct CheckProblem {
  std::string run_id;
  std::string what;  // one line, no run id
  bool repairable = false;
};

struct CheckOptions {
  std::string run_id;   // "" = every run
  bool repair = false;  // rebuild what is repairable (the caller makes sure no server writes)
};

struct CheckReport {
  int64_t runs = 0, chunks = 0, lines = 0;
  int64_t problems = 0, repairable = 0;
  int64_t repaired_runs = 0, repaired_problems = 0;
};

// Events as they happen: a problem found, a run repaired (with how many problems it fixed) or
// a repair that failed.
struct CheckSink {
  std::function<void(const CheckProblem&)> problem;
  std::function<void(const std::string& run_id, int64_t fixed)> repaired;
  std::function<void(const std::string& run_id, const Status&)> repair_failed;
};

// Thread-safety: a function; the store is used from the calling thread only.
// A failing Status only when the store cannot be read (problems are reported, not failures).
Result<CheckReport> CheckStore(LogStore& store, const CheckOptions& options, const CheckSink& sink);

}  // namespace wanllmdb
