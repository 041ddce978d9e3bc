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

inline constexpr size_t kMaxBatchLines = 10000;

// One line of another ingest protocol (OTLP, Loki push) once its fields are mapped
// (foreign_ingest.h).
struct IncomingLine {
  std::string message;         // any bytes: repaired to UTF-8 and split like a batch's message
  std::optional<Level> level;  // explicit level; none: detected from the layout
  Source source = Source::kUser;
  int64_t timestamp_us = 0;
  int64_t seq = -1;  // the writer's sequence number when the protocol gives one (dedup), else -1
};

// Thread-safety: thread-safe. Level detectors (the traceback state of each stream) are kept per
// (run, writer, source) under a mutex.
class IngestParser {
 public:
  // POST /runs/{id}/logs/batch
  Result<IngestBatch> ParseBatch(const std::string& run_id, std::string& body);
  // POST /runs/{id}/logs (and .../logs/progress, whose source defaults to stdout)
  Result<IngestBatch> ParseSingle(const std::string& run_id, std::string& body,
                                  Source default_source = Source::kUser);
  // The lines of one (run, writer) from another protocol, by the same rules as ParseBatch.
  IngestBatch BuildBatch(const std::string& run_id, const std::string& writer,
                         const std::vector<IncomingLine>& lines);

 private:
  struct Pending;
  Status AddLine(const std::string& run_id, IngestBatch* batch, std::string_view message,
                 std::optional<Level> level, Source source, int64_t ts, int64_t seq);
  void DetectLevels(IngestBatch* batch, const std::vector<uint8_t>& explicit_level);

  std::mutex mu_;
  std::unordered_map<std::string, LevelDetector> detectors_;  // Guarded by mu_
};

}  // namespace wanllmdb
