// Ingest: turns a request body into an IngestBatch by the rules of DESIGN §6 and doc/api.md —
// validate everything first (a batch is stored whole or not at all), repair UTF-8, split on
// newlines and at 64 KiB, stamp arrival time, detect levels from the line layout.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/level_detector.h"
#include "store/log_store.h"

namespace wanllmdb {

// One request stores at most this many lines, counted after splitting messages on '\n' and at
// 64 KiB (one body of newlines would otherwise be millions of lines), and at most this many
// message bytes after UTF-8 repair (which can triple a body of invalid bytes). Over either: 413.
inline constexpr size_t kMaxBatchLines = 10000;
inline constexpr size_t kMaxBatchBytes = 16 * 1024 * 1024;

// Thread-safety: thread-safe (stateless). Levels the body leaves out are marked for detection by
// the store, which keeps the traceback state of every (run, writer).
class IngestParser {
 public:
  // POST /runs/{id}/logs/batch
  Result<IngestBatch> ParseBatch(const std::string& run_id, std::string& body);
  // POST /runs/{id}/logs (and .../logs/progress, whose source defaults to stdout)
  Result<IngestBatch> ParseSingle(const std::string& run_id, std::string& body,
                                  Source default_source = Source::kUser);

 private:
  struct Pending;
  Status AddLine(const std::string& run_id, IngestBatch* batch, std::string_view message,
                 std::optional<Level> level, Source source, int64_t ts, int64_t seq);
};

}  // namespace wanllmdb
