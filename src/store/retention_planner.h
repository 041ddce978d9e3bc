// RetentionPlanner: what the retention sweep removes next, the same for every backend
// (doc/operations.md "Retention and rotation"). Two pure steps:
//
//   1. PlanRetention, from the runs rows and the policies (no chunk read): a task per run that
//      is over a limit —
//        max_age:                a run that is not running and finished more than max_age ago
//                                loses every line (and, with delete_run, the run itself);
//        max_lines/bytes_per_run: a run (running or not) over either loses its oldest lines
//                                until it is within both (rotation; kept lines keep their
//                                numbers);
//        max_bytes_per_project:  while a project's runs hold more message bytes than that
//                                (after the tasks above), the oldest finished runs (by
//                                finished_at) lose their oldest lines, oldest run first;
//                                running runs are never touched by it.
//   2. PlanCut, per step of a task, from the run's oldest chunk rows: how many whole chunks to
//      remove (never a part of one: chunks are immutable), at most a bounded number per step so
//      no transaction is long, and what they held (counts by level, source and writer from the
//      chunk metadata; chunks without per-source counts, or with several writers, are decoded).
//
// Whole chunks go, so a rotated run keeps at most its limit and at least its limit minus one
// chunk (~1,000 lines).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/retention.h"

namespace wanllmdb {

// Chunks one step removes at most: one short transaction (a few milliseconds).
inline constexpr int kRetentionChunksPerStep = 64;

enum class RetentionReason { kMaxAge, kMaxLinesPerRun, kMaxBytesPerRun, kMaxBytesPerProject };
std::string_view RetentionReasonName(RetentionReason r);  // "max_age", "max_lines_per_run", …

struct RetentionTask {
  std::string run_id, project;
  RetentionReason reason = RetentionReason::kMaxAge;
  bool all = false;         // every line (max_age)
  bool delete_run = false;  // then the run too (max_age with delete_run)
  int64_t lines = 0;        // else: remove at least this many lines …
  int64_t bytes = 0;        // … and at least this many message bytes
  int64_t limit = 0;        // the policy's figure, for the log
};

// Tasks in the order to run them: max_age, then rotation, then project caps.
// Thread-safety: a pure function.
std::vector<RetentionTask> PlanRetention(const std::map<std::string, RetentionPolicy>& projects,
                                         const RetentionPolicy& defaults,
                                         const std::vector<RetentionRun>& runs, int64_t now_us);

// Decodes the chunk of `run_id` starting at `first_line` and returns its lines (only their
// level, source and writer are used).
using ChunkLines = std::function<Result<std::vector<LogLine>>(int64_t first_line)>;

// One step of `task`, which has removed `done_lines` / `done_bytes` so far, over the run's
// oldest chunks `view` (in line order): fills `cut` with the chunks to remove now (at most
// `max_chunks`). Returns false when the task is done (nothing to remove). Chunks whose counts
// the metadata cannot give are decoded with `decode`; its failure is returned.
// Thread-safety: a pure function (but for `decode`).
Result<bool> PlanCut(const RetentionTask& task, const RetentionView& view, int64_t done_lines,
                     int64_t done_bytes, int max_chunks, const ChunkLines& decode,
                     RetentionCut* cut);

}  // namespace wanllmdb
