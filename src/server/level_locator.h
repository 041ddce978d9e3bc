// LevelLocator: `locate` for a view filtered by level only (level=ERROR: the viewer's jump in an
// "errors" view, its scrollbar). QueryEngine::Locate reads every chunk's level counts of the run
// on each call — ~10,000 chunk rows for a 10M-line run, most of the time of a jump. Here those
// counts are kept per run as prefix sums over line ranges, so a locate is a binary search plus a
// decode of the one chunk holding the line. A live run's index is extended by the chunks written
// since (one store read from the last line it covers); chunk merges do not change the lines of
// a range, so the ranges stay valid; a clear or retention cut (the `generation` the caller
// passes) rebuilds it.
//
// Memory: 56 bytes per chunk range (~0.5 MiB for a 10M-line run), at most kMaxRuns runs.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/log_store.h"
#include "store/query_engine.h"

namespace wanllmdb {

// Thread-safety: thread-safe. Indexes are immutable once published (shared_ptr<const>); two
// requests may both build or extend one (the later result replaces the earlier); nothing is
// held locked while reading the store.
class LevelLocator {
 public:
  static constexpr size_t kMaxRuns = 64;

  LevelLocator(LogStore& store, QueryEngine& engine) : store_(store), engine_(engine) {}

  // As QueryEngine::Locate, for a matcher whose filter counts_from_levels().
  Status Locate(const std::string& run_id, const std::string& generation,
                const LineMatcher& matcher, int64_t line, int64_t* index, int64_t* total);
  // Drops the index of a run (its lines were cleared).
  void Forget(const std::string& run_id);

 private:
  struct Index {
    std::string generation;
    std::vector<int64_t> first, last;  // the line range of each chunk when it was read
    std::vector<std::array<int64_t, kLevelCount>> before;  // lines per level before range k
    std::array<int64_t, kLevelCount> all{};                // lines per level in all ranges
    int64_t covered = 0;  // the last line of the last range
  };
  Result<std::shared_ptr<const Index>> IndexFor(const std::string& run_id,
                                                const std::string& generation);

  LogStore& store_;
  QueryEngine& engine_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Index>> runs_;  // guarded by mu_
};

}  // namespace wanllmdb
