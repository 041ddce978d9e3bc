// RunImport: how `wanllmdb admin import-run` turns an exported run's lines into chunk rows, the
// same for every backend. The lines keep their numbers (a permalink #L123 still points at the
// same line on the new server); chunks are cut at the merger's size (the import is stored packed,
// compressed at the merge level), at gaps in the numbering (lines a clear removed on the old
// server) and at the format's writer limit. The backend stores the run row, the chunks, the
// counters and the writer rows in one transaction (LogStore::ImportRun): all or nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "store/append_planner.h"
#include "store/store_audit.h"

namespace wanllmdb {

// The run as it is to be stored. `next_line` is the number the next appended line gets: past
// the last line assigned on the old server (which may be above the last line kept).
struct RunImport {
  RunInfo run;  // id, project, name, state, exit_code, created_at, finished_at, config, tags
  int64_t next_line = 1;
};

// One chunk row to insert.
struct ImportChunk {
  int64_t first_line = 0;
  std::vector<LogLine> lines;
  std::string payload, text_filter;
  uint64_t writer_mask = 0;
};

// Thread-safety: not thread-safe; one per import.
class ImportPlanner {
 public:
  // `removed_to`: the run's lines up to it were removed by retention on the old server (its
  // RetentionGap): no line may be numbered at or below it.
  ImportPlanner(int64_t next_line, int zstd_level, int64_t removed_to = 0)
      : next_line_(next_line), level_(zstd_level), removed_to_(removed_to), last_line_(removed_to) {}

  // Takes the next lines; returns the chunks that are complete. kInvalidValue for a line number
  // that does not go up, is not below next_line, or is in the range retention removed.
  Result<std::vector<ImportChunk>> Add(std::vector<LogLine> lines);
  // The rest, after the last Add.
  Result<std::vector<ImportChunk>> Finish();
  // Pulls every line, Adds it and Finishes, handing each chunk to `store` as it is complete:
  // the one import loop of every backend (theirs is only `store`).
  Status Run(const LinePuller& pull, const std::function<Status(const ImportChunk&)>& store);

  // After Finish: the run's counters and its writer rows (max_seq -1: the old server's seq
  // watermarks are not exported; see doc/operations.md).
  const RunCounters& counters() const { return counters_; }
  std::vector<AuditWriter> writers() const;

 private:
  Status Flush(std::vector<ImportChunk>* out);

  const int64_t next_line_;
  const int level_;
  const int64_t removed_to_;
  RunCounters counters_;
  std::map<std::string, AuditWriter> writers_;
  int64_t last_line_;
  std::vector<LogLine> pending_;  // consecutive numbers, not yet in a chunk
  size_t pending_bytes_ = 0;
};

}  // namespace wanllmdb
