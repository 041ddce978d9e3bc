// Retention and rotation (doc/operations.md "Retention and rotation"): the policy a project
// keeps its logs by, and the rows the background sweep reads and writes through LogStore. The
// same for every backend: what to delete next is decided by store/retention_planner.h from these
// rows; a backend only reads them and removes what a RetentionCut names, in one short
// transaction.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/log_line.h"
#include "store/store_audit.h"

namespace wanllmdb {

// What max_age does to a run finished longer ago than it.
enum class AgeAction : uint8_t {
  kInherit = 0,     // as the server default says (a default that says nothing: delete_logs)
  kDeleteLogs = 1,  // remove the run's lines; the run (its metadata) stays, saying so
  kDeleteRun = 2,   // remove the run altogether
};
std::string_view AgeActionName(AgeAction a);  // "delete_logs", "delete_run", "" (inherit)
std::optional<AgeAction> ParseAgeAction(std::string_view s);

// A project's policy, or the server-wide default. Every limit is kInherit (not set here: the
// default applies), kNoLimit (keep everything, whatever the default says) or a positive value.
// Thread-safety: a value type.
struct RetentionPolicy {
  static constexpr int64_t kInherit = -1;
  static constexpr int64_t kNoLimit = 0;
  int64_t max_age_us = kInherit;  // the API takes days (fractional); kept in microseconds
  AgeAction age_action = AgeAction::kInherit;
  int64_t max_lines_per_run = kInherit;
  int64_t max_bytes_per_run = kInherit;      // message bytes (the summary's `bytes`)
  int64_t max_bytes_per_project = kInherit;  // message bytes of all its runs
  int64_t updated_at_us = 0;                 // when it was last set (0: never)

  bool operator==(const RetentionPolicy& o) const {
    return max_age_us == o.max_age_us && age_action == o.age_action &&
           max_lines_per_run == o.max_lines_per_run && max_bytes_per_run == o.max_bytes_per_run &&
           max_bytes_per_project == o.max_bytes_per_project;
  }
};

// The policy that applies: every kInherit of `project` replaced by the default's value, and
// what neither sets becomes kNoLimit (delete_logs for the action). Keep everything by default.
RetentionPolicy ResolveRetention(const RetentionPolicy& project, const RetentionPolicy& defaults);

// Whether a resolved policy can remove anything.
bool RemovesAnything(const RetentionPolicy& resolved);

// A run as the planner sees it (the runs row's counters; no chunk is read).
struct RetentionRun {
  std::string id, project;
  RunState state = RunState::kRunning;
  int64_t created_at_us = 0;
  std::optional<int64_t> finished_at_us;
  int64_t total = 0, bytes = 0;  // stored lines and their message bytes
};

// One of a run's oldest chunk rows, metadata only.
struct RetentionChunk {
  int64_t first_line = 0, last_line = 0, n_lines = 0;
  int64_t raw_bytes = 0;  // message bytes + 1 per line (doc/chunk_format.md)
  std::array<int64_t, kLevelCount> level_counts{};
  // Per-source counts (schema 7 on); none for chunks written before: their lines are decoded
  // when they are removed.
  std::optional<std::array<int64_t, kSourceCount>> source_counts;
  uint64_t writer_mask = 0;  // bit = writer id, 63 = "63 or above"
};

// A run's writers and its oldest chunks, in line order.
struct RetentionView {
  std::vector<AuditWriter> writers;
  std::vector<RetentionChunk> chunks;
};

// What one retention step removes from one run: its oldest chunks, up to the chunk starting at
// `last_first_line` (ending at `last_line`), and what they held. The backend removes them only
// if they are still exactly these (`chunks` rows, `removed.total` lines, nothing older): a merge,
// a clear or another node's sweep in between makes it kConflict, and nothing is written.
struct RetentionCut {
  std::string run_id;
  int64_t first_line = 0;       // the first chunk's first line (the run's first stored line)
  int64_t last_first_line = 0;  // the last removed chunk's first line
  int64_t last_line = 0;        // its last line
  int64_t chunks = 0;
  RunCounters removed;                    // total, bytes, level_counts, source_counts
  std::map<int64_t, int64_t> by_writer;   // writer id → lines removed
  int64_t now_us = 0;                     // recorded as when the lines were removed
};

// Takes what a cut removed (total, bytes, level and source counts) off a run's counters, never
// below 0 (a counter a repair had to rebuild may be off; `admin check` reports it).
void SubtractRemoved(const RunCounters& removed, RunCounters* run);

}  // namespace wanllmdb
