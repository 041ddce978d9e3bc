// Problem events: the stored rows (one per run, signature and writer) folded into what a reader
// sees — one event per signature of a run, with every writer it happened on ("× 8 ranks").
// Backend-neutral: both stores hand back rows, this turns them into events.
#pragma once

#include <string>
#include <vector>

#include "store/log_store.h"

namespace wanllmdb {

struct ProblemWriter {
  std::string writer;
  int64_t first_line = 0, last_line = 0, last_seen_line = 0, occurrences = 0;
};

struct ProblemEvent {
  std::string run_id, signature, kind, rule, title, detail;
  Level level = Level::kError;
  // The earliest writer's occurrence: where "jump to the line" goes.
  int64_t first_line = 0, last_line = 0, first_ts_us = 0, detected_at_us = 0;
  int64_t occurrences = 0;             // over all writers
  std::vector<ProblemWriter> writers;  // by first line
};

// Folds rows by (run_id, signature). Events of a run come by first line; runs in the order
// their first row came. Thread-safety: a pure function.
std::vector<ProblemEvent> FoldProblems(const std::vector<ProblemRow>& rows);

// The worst of `events` (core/problem_rules.h kProblemKinds order, then the earliest); null
// when empty.
const ProblemEvent* TopProblem(const std::vector<ProblemEvent>& events);

}  // namespace wanllmdb
