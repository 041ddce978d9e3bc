// MatchLocator: `locate` for a filtered view (level=ERROR, search=loss, field.rank=3, ...): how
// many matching lines come before a line, and how many there are, asked by the viewer on every
// jump and scrollbar move of a filtered view. Counting them means reading every chunk of the run
// (for a text filter, decompressing and searching every chunk: ~0.2 s for 1M lines), each time.
// Here the counts are kept per run and filter as prefix sums over chunk ranges, so a locate is a
// binary search plus a decode of the one chunk holding the line.
//
// A range's count is read once: from the chunk's level counts when the filter is levels only
// (LogFilter::counts_from_levels), else by scanning the range. A live run's index is extended by
// the chunks written since (one store read from the last line it covers, then a scan of the new
// chunks only). Lines of a range never change (a run's line numbers are never given out twice),
// so merges leave the counts valid: a merge that joins ranges the index holds with new ones cuts
// the index back to where the merged chunk begins. A clear or retention cut (the `generation` the
// caller passes) rebuilds it; so does Forget (the run was deleted or imported again).
//
// Memory: 24 bytes per chunk range per filter (~240 KiB for a 10M-line run); runs leave least
// recently used first past kMaxBytes, and a run keeps its kFiltersPerRun latest filters.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/log_store.h"
#include "store/query_engine.h"
#include "store/run_lru.h"

namespace wanllmdb {

// Thread-safety: thread-safe. Indexes are immutable once published (shared_ptr<const>); two
// requests may both build or extend one (the later result replaces the earlier); nothing is
// held locked while reading the store.
class MatchLocator {
 public:
  static constexpr size_t kMaxBytes = 32u << 20;
  static constexpr size_t kFiltersPerRun = 8;

  // `keys_per_read`: chunk keys read per store read while an index grows (and counted per
  // step: what a locate that runs out of budget keeps).
  MatchLocator(LogStore& store, QueryEngine& engine, int keys_per_read = 4096)
      : store_(store), engine_(engine), keys_per_read_(keys_per_read) {}

  // As QueryEngine::Locate, for a matcher that does not match everything.
  Status Locate(const std::string& run_id, const std::string& generation,
                const LineMatcher& matcher, int64_t line, int64_t* index, int64_t* total);
  // Drops every index of a run (its lines were cleared, it was deleted or imported).
  void Forget(const std::string& run_id);

 private:
  struct Index {
    std::string generation;
    std::vector<int64_t> first, last;  // the line range of each chunk when it was read
    std::vector<int64_t> before;       // matching lines before range k
    int64_t all = 0;                   // matching lines in all ranges
    int64_t covered = 0;               // the last line of the last range
    size_t bytes() const { return sizeof(Index) + 24 * first.capacity(); }
  };
  struct Filters {
    // The run's indexes by filter key, the most recently used last.
    std::vector<std::pair<std::string, std::shared_ptr<const Index>>> by_key;
  };
  Result<std::shared_ptr<const Index>> IndexFor(const std::string& run_id, const std::string& key,
                                                const std::string& generation,
                                                const LineMatcher& matcher);
  // Appends `chunks` (consecutive, after grown->covered) with their match counts to `grown`.
  Status Count(const std::string& run_id, const LineMatcher& matcher,
               const std::vector<StoredChunk>& chunks, Index* grown);
  std::shared_ptr<const Index> Find(const std::string& run_id, const std::string& key);
  void Publish(const std::string& run_id, const std::string& key,
               std::shared_ptr<const Index> index);

  LogStore& store_;
  QueryEngine& engine_;
  const int keys_per_read_;
  std::mutex mu_;
  RunLru<Filters> runs_{256};  // guarded by mu_
};

}  // namespace wanllmdb
