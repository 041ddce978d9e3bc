// AppendPlanner: what an append does to a run, the same for every backend (DESIGN §2, §3, §6).
// A backend reads the run's counters and the (run, writer) row inside the batch's transaction,
// calls ApplyBatch, then writes what it returns: the chunk pieces at first_line + begin, the new
// counters and the new writer row. So line numbers, seq dedup and traceback state are exactly as
// transactional as the backend's rows, on one node or many.
//
// Two steps keep the expensive work off the transaction: PrepareBatch (caller's thread) detects
// levels from the traceback state the writer is expected to be in and compresses; ApplyBatch
// (in the transaction) redoes both only when the stored state disagrees or some lines turn out
// to be duplicates — rare: a retry, or a writer whose batches alternate between nodes.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/problem_rules.h"
#include "store/chunk_writer.h"
#include "store/log_store.h"

namespace wanllmdb {

// The runs row's log counters.
struct RunCounters {
  int64_t next_line = 1, first_line = 0, total = 0, bytes = 0;
  std::array<int64_t, kLevelCount> level_counts{};
  std::array<int64_t, kSourceCount> source_counts{};
  std::optional<int64_t> first_ts, last_ts;
};

// Adds one stored line to the counters (not first_line, next_line: they follow the numbering).
// The one rule for what the counters sum: ingest, `admin check` and import use it.
inline void CountLine(const LogLine& l, RunCounters* c) {
  ++c->total;
  c->level_counts[static_cast<int>(l.level)]++;
  c->source_counts[static_cast<int>(l.source)]++;
  c->bytes += static_cast<int64_t>(l.message.size());
  if (!c->first_ts || l.timestamp_us < *c->first_ts) c->first_ts = l.timestamp_us;
  if (!c->last_ts || l.timestamp_us > *c->last_ts) c->last_ts = l.timestamp_us;
}

// The run_writers row of one (run, writer).
struct WriterState {
  bool exists = false;  // false: a new writer; the backend sets `id` before ApplyBatch
  int64_t id = 0, max_seq = -1, lines = 0;
  uint32_t traceback_mask = 0;  // bit per source: that stream's last line left a traceback open
};

struct PreparedBatch {
  IngestBatch batch;
  uint32_t assumed_traceback = 0;  // the writer state levels were detected from
  uint32_t end_traceback = 0;      // the state after the batch
  std::vector<ChunkPiece> pieces;  // encoded batch.lines
  std::vector<ProblemHit> problems;  // found in batch.lines (indexes), from assumed_traceback
  // Where the writer's open tracebacks began (TracebackHints), valid while the writer has
  // carry_writer_lines lines stored; and what this batch leaves open.
  OpenTracebacks carry;
  int64_t carry_writer_lines = -1;
  OpenTracebacks open_at_end;
  // Filled by ApplyBatch: the problems as rows to upsert (LogStore::RecordProblems' rule), with
  // the numbers the lines got.
  std::vector<ProblemRow> problem_rows;
};

// The writer's state a batch is expected to start from: its traceback mask and, for the
// tracebacks open, where they began (so a report split across two batches is one event with
// its whole range and innermost frame).
struct TracebackHint {
  uint32_t mask = 0;
  int64_t writer_lines = -1;  // the writer's stored line count the hint was taken at
  OpenTracebacks open;
};

// Detects levels of lines without an explicit one (from the hint's mask), scans problems and
// encodes. Thread-safety: a pure function.
Result<PreparedBatch> PrepareBatch(IngestBatch batch, const TracebackHint& hint, int zstd_level);

// In the transaction, on the state just read: skips lines at or below the writer's seq
// watermark, re-detects and re-encodes when needed, numbers the kept lines from
// run.next_line, and updates `run` and `w`. Outcomes: OK (result filled; nothing to write when
// result->accepted == 0 except the writer row when `w` changed), or a failing Status from
// encoding. Thread-safety: a pure function.
Status ApplyBatch(PreparedBatch& p, RunCounters& run, WriterState& w, int zstd_level,
                  IngestResult* result);

// What a run's problem rows were before a batch, read by the backend in the batch's
// transaction (the run's row locked) for CapProblemRows.
struct ProblemRowsBefore {
  std::set<std::string> kinds;       // of the batch's rows' kinds, those the run has rows of
  std::set<std::string> signatures;  // of the batch's rows' signatures, those the run has
  int64_t signature_count = 0;       // distinct signatures the run has (only needed when some
                                     // of the batch's are new)
};

// After ApplyBatch, on what the backend read: keeps in p.problem_rows the rows the cap allows
// (kMaxProblemSignaturesPerRun: a known signature always, a new one while the run has fewer,
// counting the batch's own), and fills result->new_problem_kinds (kinds of kept rows the run
// had no row of) and result->problems_dropped (occurrences of the rows left out).
// Thread-safety: a pure function.
void CapProblemRows(PreparedBatch& p, const ProblemRowsBefore& before, IngestResult* result);

// The traceback state each (run, writer) was last seen to end in, so PrepareBatch usually
// guesses right. Only a hint: ApplyBatch checks the mask against the store and the open
// tracebacks' starts against the writer's line count (another node, or a restart, may have
// stored the writer's lines since: then a report split across batches starts at the second
// batch, as without hints).
// Thread-safety: thread-safe.
class TracebackHints {
 public:
  TracebackHint Get(const std::string& run_id, const std::string& writer);
  // The state after an applied batch: the writer's mask and line count, and the batch's end.
  void Set(const std::string& run_id, const std::string& writer, const PreparedBatch& applied,
           const WriterState& w);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, TracebackHint> hints_;  // Guarded by mu_
};

}  // namespace wanllmdb
