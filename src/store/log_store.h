// LogStore: the storage interface. SQLite (embedded, default) implements it now; PostgreSQL
// (many server nodes, one database) implements the same contract later. Everything a backend
// must guarantee is written here, not in an implementation:
//   - Append is durable when it returns OK (committed), and atomic per batch.
//   - Line numbers are dense per run, assigned in commit order, never reused (not even after
//     ClearLogs).
//   - Lines with a seq at or below the (run, writer) watermark are skipped as duplicates.
//   - ReadChunks returns chunks in line order covering disjoint ranges.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/log_line.h"
#include "core/status.h"

namespace wanllmdb {

enum class RunState { kRunning, kFinished, kFailed, kCrashed };
std::string_view RunStateName(RunState s);
std::optional<RunState> ParseRunState(std::string_view s);

struct ProjectInfo {
  std::string name;
  int64_t created_at_us = 0;
  int64_t run_count = 0;
  std::optional<int64_t> last_run_at_us;
};

struct RunInfo {
  std::string id, project, name;
  RunState state = RunState::kRunning;
  std::optional<int64_t> exit_code;
  int64_t created_at_us = 0;
  std::optional<int64_t> finished_at_us;
  std::string config_json = "{}";  // opaque JSON object, stored as sent
  std::string tags_json = "[]";    // JSON array of strings
  int64_t line_count = 0, error_count = 0, last_line = 0;
};

struct NewRun {
  std::string id;  // canonical UUID; the caller generates one when the client did not
  std::string project, name;
  std::string config_json = "{}", tags_json = "[]";
};

// One writer (rank) of a run of `world_size` processes ended with RunUpdate's state and exit
// code. Its fate is kept; the run's own state changes only when `world_size` writers have ended:
// crashed if any crashed, else failed if any failed, else finished, with the exit code of the
// first writer that ended badly (else 0). Until then the run stays as it is.
struct WriterEnd {
  std::string writer;
  int64_t world_size = 1;
};

struct RunUpdate {
  std::optional<RunState> state;
  std::optional<std::optional<int64_t>> exit_code;  // set to a value or to null
  std::optional<WriterEnd> writer_end;  // with a final state: one rank's end (WriterEnd)
};

struct LogSummary {
  int64_t total = 0, bytes = 0;
  std::array<int64_t, kLevelCount> by_level{};
  std::array<int64_t, kSourceCount> by_source{};
  std::map<std::string, int64_t> by_writer;
  std::optional<int64_t> first_timestamp_us, last_timestamp_us;
  int64_t first_line = 0;  // 0 when there are no lines
  int64_t last_line = 0;   // highest number ever assigned
};

// One batch from one writer. `seqs` is empty or parallel to `lines` (-1 = no seq).
struct IngestBatch {
  std::string run_id;
  std::string writer = "main";
  std::vector<LogLine> lines;  // sanitized, split, with levels and timestamps
  std::vector<int64_t> seqs;
};

struct IngestResult {
  int64_t accepted = 0, duplicates = 0;
  int64_t first_line = 0, last_line = 0;  // 0 when nothing was accepted
};

// Metadata and compressed payload of one stored chunk.
struct StoredChunk {
  int64_t first_line = 0, last_line = 0;
  int64_t ts_min = 0, ts_max = 0;
  uint32_t level_mask = 0, source_mask = 0;
  std::array<int64_t, kLevelCount> level_counts{};
  int codec = 0;
  std::string payload;
};

// Which chunks a reader wants. Chunks are skipped by key range, time range and masks.
struct ChunkQuery {
  int64_t from_line = 1;        // chunks whose last_line >= from_line
  int64_t to_line = INT64_MAX;  // and whose first_line <= to_line
  bool descending = false;
  int max_chunks = 16;
  std::optional<int64_t> since_us, until_us;
  uint32_t level_mask = 0, source_mask = 0;  // 0 = any
  bool with_payload = true;
};

// Told after every commit that stored lines (on the committing thread: keep it short).
struct CommitEvent {
  std::string run_id;
  int64_t first_line = 0, last_line = 0;
  std::shared_ptr<const std::vector<LogLine>> lines;  // numbered
};
using CommitListener = std::function<void(const CommitEvent&)>;

// Thread-safety: every method may be called from any thread concurrently.
class LogStore {
 public:
  virtual ~LogStore() = default;

  virtual Result<ProjectInfo> CreateProject(const std::string& name, bool* created) = 0;
  virtual Result<std::vector<ProjectInfo>> ListProjects() = 0;

  // Creates the run (and its project); when the id exists in the same project, returns it with
  // *created = false; in another project: kConflict.
  virtual Result<RunInfo> CreateRun(const NewRun& run, bool* created) = 0;
  virtual Result<RunInfo> GetRun(const std::string& id) = 0;
  virtual Result<std::vector<RunInfo>> ListRuns(const std::string& project,
                                                std::optional<RunState> state, int limit) = 0;
  virtual Result<RunInfo> UpdateRun(const std::string& id, const RunUpdate& update) = 0;
  virtual Status DeleteRun(const std::string& id) = 0;

  virtual Result<IngestResult> Append(IngestBatch batch) = 0;
  // Several batches (runs, writers) as one: all stored or none, results in order. The foreign
  // ingest protocols (OTLP, Loki push) carry many writers in one request. The default serves
  // one batch; a backend that can do more in one transaction overrides it.
  virtual Result<std::vector<IngestResult>> AppendAll(std::vector<IngestBatch> batches) {
    if (batches.size() > 1)
      return Status(Code::kInternal, "this store cannot store several writers atomically");
    std::vector<IngestResult> out;
    if (batches.empty()) return out;
    auto r = Append(std::move(batches.front()));
    if (!r.ok()) return r.status();
    out.push_back(*r);
    return out;
  }
  virtual Status ClearLogs(const std::string& run_id) = 0;
  virtual Result<LogSummary> Summary(const std::string& run_id) = 0;
  // Chunks in line order (or reverse); an empty vector when no more match.
  virtual Result<std::vector<StoredChunk>> ReadChunks(const std::string& run_id,
                                                      const ChunkQuery& query) = 0;

  virtual void SetCommitListener(CommitListener listener) = 0;
  // Flushes, stops background work, closes. Idempotent.
  virtual void Close() = 0;
  // Storage figures for benchmarks and the health page.
  virtual Result<int64_t> BytesOnDisk() = 0;
  // Runs background merges now until nothing is left to merge (tests, benchmarks).
  virtual Status CompactNow() = 0;
};

// "sqlite:PATH" (or a bare path). Opens, migrates, starts background work.
Result<std::unique_ptr<LogStore>> OpenStore(const std::string& url);

}  // namespace wanllmdb
