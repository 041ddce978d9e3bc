// FilterCache: the text filters (core/text_filter.h) of recently searched chunks, in memory, so a
// search does not read every filter row of a run from the store again: a 10M-line run has
// 10,000 of them (~10 MB), and reading them was most of an absent needle's time.
//
// A chunk's filter is a function of its lines, and a run's line numbers are never given out
// twice (a clear keeps the counter; retention only removes), so (run, first_line, last_line)
// names the same lines for the life of the run: a merge or a recompression that keeps the range
// keeps the lines and so the filter, and a merged chunk has a new range. What could still make
// an entry stale is a run deleted and imported again under its id (import-run keeps ids) or a
// repair rewriting a filter: those drop the run's entries (DropRun), and each entry also carries
// a token the store reads with the chunk's key and changes whenever the row is written again
// (SQLite: the row id; PostgreSQL: the row's xmin), for writers in other processes or nodes.
//
// Entries are grouped by run (a search asks for many chunks of one run: one lookup of the run,
// then one of each first line, under one lock); whole runs leave, least recently used first,
// once the cache holds more than max_bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/run_lru.h"

namespace wanllmdb {

inline constexpr size_t kFilterCacheBytes = 128u << 20;

// One chunk's key: first and last line and the store's token for its row.
struct FilterKey {
  int64_t first_line = 0, last_line = 0;
  int64_t token = 0;
};

// Thread-safety: thread-safe (one mutex; each call does little under it).
class FilterCache {
 public:
  explicit FilterCache(size_t max_bytes = kFilterCacheBytes);
  FilterCache(const FilterCache&) = delete;
  FilterCache& operator=(const FilterCache&) = delete;

  using Filter = std::shared_ptr<const std::string>;
  // For each key, the filter stored for it ("" = the chunk has none), or null when not cached
  // (or cached with another last line or token). `out` gets keys.size() entries.
  void FindAll(std::string_view run_id, const std::vector<FilterKey>& keys,
               std::vector<Filter>* out);
  void Insert(std::string_view run_id, const FilterKey& key, Filter filter);
  // Forgets every entry of `run_id` (deleted, imported again, repaired).
  void DropRun(std::string_view run_id);

  size_t bytes() const;

 private:
  struct Entry {
    int64_t last_line = 0, token = 0;
    Filter filter;
  };
  using Entries = std::unordered_map<int64_t, Entry>;  // by first line
  void EvictLocked();

  const size_t max_bytes_;
  mutable std::mutex mu_;
  RunLru<Entries> runs_;  // guarded by mu_
};

// Drops a run's entries when it goes out of scope: after the write that deletes, imports or
// repairs the run has committed (or failed).
class DropRunFiltersAtExit {
 public:
  DropRunFiltersAtExit(FilterCache& cache, const std::string& run_id)
      : cache_(cache), run_id_(run_id) {}
  ~DropRunFiltersAtExit() { cache_.DropRun(run_id_); }
  DropRunFiltersAtExit(const DropRunFiltersAtExit&) = delete;
  DropRunFiltersAtExit& operator=(const DropRunFiltersAtExit&) = delete;

 private:
  FilterCache& cache_;
  const std::string& run_id_;
};

}  // namespace wanllmdb
