// The raw rows `wanllmdb admin check` compares, and what `--repair` writes back
// (store/store_check.h holds the checks; backends only read and write these rows).
// Every backend stores the same columns (DESIGN §3), so the rows are backend-neutral.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/append_planner.h"

namespace wanllmdb {

// A run_writers row.
struct AuditWriter {
  std::string writer;
  int64_t id = 0, max_seq = -1, lines = 0;
};

// A runs row's log counters and the run's writers, as stored.
struct AuditRun {
  std::string id;
  RunCounters counters;
  RetentionGap removed;  // lines retention removed (none may be in a chunk)
  std::vector<AuditWriter> writers;
};

// A log_chunks row with every metadata column, as stored.
struct AuditChunk {
  int64_t first_line = 0, last_line = 0, n_lines = 0;
  int64_t ts_min = 0, ts_max = 0, raw_bytes = 0;
  uint32_t level_mask = 0, source_mask = 0;
  uint64_t writer_mask = 0;
  std::array<int64_t, kLevelCount> level_counts{};
  // Per-source counts (schema 7); none for chunks written before (decoded when removed).
  std::optional<std::array<int64_t, kSourceCount>> source_counts;
  int codec = 0;
  std::string payload;
  std::string text_filter;  // core/text_filter.h; "" = none (the chunk is always scanned)
};

// Run ids the store names: those with a runs row, and those only chunks or writer rows name
// (left behind by a run deleted half-way: nothing reads them).
struct AuditIds {
  std::vector<std::string> runs;
  std::vector<std::string> orphans;
};

// What `--repair` writes for one run, rebuilt from its chunks. It is written only while the
// runs row still has `seen_next_line` and `seen_total` (nothing was appended or cleared since the
// check read it); otherwise RepairRun fails with kConflict and writes nothing.
struct RunRepair {
  std::string run_id;
  int64_t seen_next_line = 0, seen_total = 0;
  std::optional<RunCounters> counters;  // the runs row's counters, when they are rebuilt
  std::vector<AuditWriter> writers;     // rows whose `lines` is set; inserted when missing
  // Chunks whose metadata columns (n_lines … raw_bytes, writer_mask) and text filter are
  // rewritten to these values, keyed by (first_line, last_line); payload unused.
  std::vector<AuditChunk> chunks;
};

}  // namespace wanllmdb
