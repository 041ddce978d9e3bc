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

// One line of another ingest protocol (OTLP, Loki push) once its fields are mapped
// (foreign_ingest.h).
struct IncomingLine {
  std::string message;         // any bytes: repaired to UTF-8 and split like a batch's message
  std::optional<Level> level;  // explicit level; none: detected from the layout (by the store)
  Source source = Source::kUser;
  int64_t timestamp_us = 0;
  int64_t seq = -1;  // the writer's sequence number when the protocol gives one (dedup), else -1
};

// The limits of one request that stores several batches (a foreign ingest request's
// (run, writer) groups): kMaxBatchLines and kMaxBatchBytes hold for all of them together.
struct RequestBudget {
  size_t lines = 0, bytes = 0;
};

// Thread-safety: thread-safe (stateless). Levels the body leaves out are marked for detection by
// the store, which keeps the traceback state of every (run, writer).
class IngestParser {
 public:
  // `parse_fields`: structured messages (JSON, Python dict, logfmt) get their fields parsed.
  explicit IngestParser(bool parse_fields = true) : parse_fields_(parse_fields) {}

  // POST /runs/{id}/logs/batch
  Result<IngestBatch> ParseBatch(const std::string& run_id, std::string& body);
  // POST /runs/{id}/logs (and .../logs/progress, whose source defaults to stdout)
  Result<IngestBatch> ParseSingle(const std::string& run_id, std::string& body,
                                  Source default_source = Source::kUser);
  // The lines of one (run, writer) from another protocol, by the same rules as ParseBatch;
  // kTooLarge once the request's lines pass the limits (`budget` counts across its batches).
  Result<IngestBatch> BuildBatch(const std::string& run_id, const std::string& writer,
                                 const std::vector<IncomingLine>& lines, RequestBudget* budget);

 private:
  struct Pending;
  bool parse_fields_;
  Status AddLine(const std::string& run_id, IngestBatch* batch, std::string_view message,
                 std::optional<Level> level, Source source, int64_t ts, int64_t seq);
};

}  // namespace wanllmdb
