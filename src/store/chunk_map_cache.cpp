#include "store/chunk_map_cache.h"

#include <algorithm>

namespace wanllmdb {
namespace {

constexpr size_t kRunOverhead = 160;

size_t MapBytes(const ChunkMap& map) {
  return map.chunks.capacity() * sizeof(StoredChunk) + map.tokens.capacity() * sizeof(int64_t);
}

bool Wanted(const StoredChunk& c, const ChunkQuery& q) {
  if (q.since_us && c.ts_max < *q.since_us) return false;
  if (q.until_us && c.ts_min > *q.until_us) return false;
  if (q.level_mask && !(c.level_mask & q.level_mask)) return false;
  if (q.source_mask && !(c.source_mask & q.source_mask)) return false;
  return true;
}

}  // namespace

std::vector<size_t> SelectChunks(const ChunkMap& map, const ChunkQuery& q, size_t limit) {
  std::vector<size_t> out;
  const auto& cs = map.chunks;
  // Chunks hold disjoint line ranges in first_line order, so last lines are in order too.
  const size_t lo = static_cast<size_t>(
      std::partition_point(cs.begin(), cs.end(),
                           [&](const StoredChunk& c) { return c.last_line < q.from_line; }) -
      cs.begin());
  const size_t hi = static_cast<size_t>(
      std::partition_point(cs.begin(), cs.end(),
                           [&](const StoredChunk& c) { return c.first_line <= q.to_line; }) -
      cs.begin());  // one past the last
  if (q.descending) {
    for (size_t k = hi; k > lo && out.size() < limit; --k) {
      if (Wanted(cs[k - 1], q)) out.push_back(k - 1);
    }
  } else {
    for (size_t k = lo; k < hi && out.size() < limit; ++k) {
      if (Wanted(cs[k], q)) out.push_back(k);
    }
  }
  return out;
}

ChunkMapCache::ChunkMapCache(size_t max_bytes) : max_bytes_(max_bytes), runs_(kRunOverhead) {}

bool ChunkMapCache::Knows(std::string_view run_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_.Contains(run_id);
}

ChunkMapCache::Map ChunkMapCache::Find(std::string_view run_id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* run = runs_.Find(run_id);
  if (!run || !run->value.map || run->value.map->version != version) return nullptr;
  return run->value.map;
}

bool ChunkMapCache::Observe(std::string_view run_id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  Seen& run = runs_.Touch(run_id).value;
  const bool again = run.has_seen && run.seen == version;
  run.seen = version;
  run.has_seen = true;
  EvictLocked();
  return again;
}

void ChunkMapCache::Insert(std::string_view run_id, Map map) {
  const size_t cost = MapBytes(*map);
  if (cost > max_bytes_) return;  // would push every other run out, and itself next
  std::lock_guard<std::mutex> lock(mu_);
  auto& run = runs_.Touch(run_id);
  if (run.value.map) runs_.Charge(run, -static_cast<std::ptrdiff_t>(MapBytes(*run.value.map)));
  run.value.map = std::move(map);
  runs_.Charge(run, static_cast<std::ptrdiff_t>(cost));
  EvictLocked();
}

void ChunkMapCache::EvictLocked() {
  // Never the run just used (at the front).
  while (runs_.bytes() > max_bytes_ && runs_.size() > 1) runs_.DropOldest();
}

void ChunkMapCache::DropRun(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  runs_.Drop(run_id);
}

size_t ChunkMapCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_.bytes();
}

}  // namespace wanllmdb
