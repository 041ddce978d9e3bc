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
// Bounded: least recently used entries go past max_bytes.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wanllmdb {

inline constexpr size_t kFilterCacheBytes = 128u << 20;

struct FilterKey {
  std::string_view run_id;
  int64_t first_line = 0, last_line = 0;
  int64_t token = 0;
};

// Thread-safety: thread-safe (sharded mutexes).
class FilterCache {
 public:
  explicit FilterCache(size_t max_bytes = kFilterCacheBytes);
  FilterCache(const FilterCache&) = delete;
  FilterCache& operator=(const FilterCache&) = delete;

  // The filter stored for `key` ("" = the chunk has none), or null when not cached.
  std::shared_ptr<const std::string> Find(const FilterKey& key);
  void Insert(const FilterKey& key, std::string filter);
  // Forgets every entry of `run_id` (deleted, imported again, repaired).
  void DropRun(std::string_view run_id);
  void Clear();

  size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    std::string run_id;
    std::shared_ptr<const std::string> filter;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // most recently used first; guarded by mu
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index;  // guarded by mu
    size_t bytes = 0;                                                        // guarded by mu
  };
  static constexpr size_t kShards = 16;
  static std::string KeyOf(const FilterKey& key);
  Shard& ShardOf(const std::string& key);

  const size_t max_shard_bytes_;
  Shard shards_[kShards];
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
