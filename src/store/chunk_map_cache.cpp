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

ChunkMapCache::ChunkMapCache(size_t max_bytes) : max_bytes_(max_bytes) {}

std::list<ChunkMapCache::Run>::iterator ChunkMapCache::TouchLocked(std::string_view run_id) {
  auto it = runs_.find(run_id);
  if (it == runs_.end()) {
    lru_.push_front(Run{std::string(run_id), 0, false, nullptr, kRunOverhead});
    bytes_ += kRunOverhead;
    return runs_.emplace(lru_.front().id, lru_.begin()).first->second;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second;
}

bool ChunkMapCache::Knows(std::string_view run_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_.count(run_id) != 0;
}

ChunkMapCache::Map ChunkMapCache::Find(std::string_view run_id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end() || !it->second->map || it->second->map->version != version) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->map;
}

bool ChunkMapCache::Observe(std::string_view run_id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto run = TouchLocked(run_id);
  const bool again = run->has_seen && run->seen == version;
  run->seen = version;
  run->has_seen = true;
  EvictLocked();
  return again;
}

void ChunkMapCache::Insert(std::string_view run_id, Map map) {
  const size_t cost = MapBytes(*map);
  if (cost > max_bytes_) return;  // would push every other run out, and itself next
  std::lock_guard<std::mutex> lock(mu_);
  auto run = TouchLocked(run_id);
  if (run->map) {
    const size_t old = MapBytes(*run->map);
    run->bytes -= old;
    bytes_ -= old;
  }
  run->map = std::move(map);
  run->bytes += cost;
  bytes_ += cost;
  EvictLocked();
}

void ChunkMapCache::EvictLocked() {
  // Never the run just used (at the front).
  while (bytes_ > max_bytes_ && lru_.size() > 1) {
    Run& last = lru_.back();
    bytes_ -= last.bytes;
    runs_.erase(last.id);
    lru_.pop_back();
  }
}

void ChunkMapCache::DropRun(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  bytes_ -= it->second->bytes;
  auto node = it->second;
  runs_.erase(it);
  lru_.erase(node);
}

size_t ChunkMapCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace wanllmdb
