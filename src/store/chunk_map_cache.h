// ChunkMapCache: the chunk metadata of runs that stopped changing (their "chunk maps"), in
// memory, so a search over an idle run does not read a row per chunk from PostgreSQL for every
// page: a 1M-line run has 1,000 chunks, and reading their rows took longer than SQLite's whole
// search.
//
// A map is tagged with the run row's version (PostgreSQL: its xmin). Every write that changes a
// run's chunks also writes its run row, in the same transaction (appends, clears, retention,
// imports update counters; a merge touches the row for this reason alone), so a map whose tag
// equals the run row's current version lists exactly the chunks stored, on every node.
//
// A map is only loaded for a version seen before (Observe), i.e. a run whose row did not change
// between two reads: a run being appended to changes between reads, and reloading all of its
// chunk rows for every page of a search would cost more than the pages themselves. Whole maps
// leave, least recently used first, once the cache holds more than max_bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/log_store.h"
#include "store/run_lru.h"

namespace wanllmdb {

inline constexpr size_t kChunkMapCacheBytes = 32u << 20;

// One run's chunks, in first_line order, without payloads; tokens[k] is chunks[k]'s row token
// (PostgreSQL: xmin), as ReadChunks checks payload rows against it.
struct ChunkMap {
  int64_t version = 0;
  std::vector<StoredChunk> chunks;
  std::vector<int64_t> tokens;
};

// The chunks of `map` that `q` asks for (range, time, masks, order), as the stores' SQL selects
// them, by index into map.chunks, at most `limit` of them (q.max_chunks is the caller's to
// apply: a reader may take more chunks its probe skips).
std::vector<size_t> SelectChunks(const ChunkMap& map, const ChunkQuery& q, size_t limit);

// Thread-safety: thread-safe (one mutex; each call does little under it; maps are immutable
// once inserted and shared).
class ChunkMapCache {
 public:
  explicit ChunkMapCache(size_t max_bytes = kChunkMapCacheBytes);
  ChunkMapCache(const ChunkMapCache&) = delete;
  ChunkMapCache& operator=(const ChunkMapCache&) = delete;

  using Map = std::shared_ptr<const ChunkMap>;
  // Whether the cache knows `run_id` at all (a map or a version seen): only then is reading
  // the run row's version worth a round trip.
  bool Knows(std::string_view run_id) const;
  // The run's map when it is tagged `version`.
  Map Find(std::string_view run_id, int64_t version);
  // Records a read that saw `version`; true when the previous read saw it too (load a map now).
  bool Observe(std::string_view run_id, int64_t version);
  void Insert(std::string_view run_id, Map map);
  void DropRun(std::string_view run_id);

  size_t bytes() const;

 private:
  struct Seen {
    int64_t seen = 0;
    bool has_seen = false;
    Map map;
  };
  void EvictLocked();

  const size_t max_bytes_;
  mutable std::mutex mu_;
  RunLru<Seen> runs_;  // guarded by mu_
};

}  // namespace wanllmdb
