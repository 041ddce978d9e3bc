#include "store/filter_cache.h"

#include <cstring>
#include <functional>

namespace wanllmdb {
namespace {

// What an entry costs besides its filter bytes: the key, the list node, the index slot.
constexpr size_t kEntryOverhead = 160;

}  // namespace

FilterCache::FilterCache(size_t max_bytes) : max_shard_bytes_(max_bytes / kShards) {}

std::string FilterCache::KeyOf(const FilterKey& k) {
  std::string s;
  s.reserve(k.run_id.size() + 3 * sizeof(int64_t));
  s.append(k.run_id);
  for (int64_t v : {k.first_line, k.last_line, k.token}) {
    char b[sizeof v];
    std::memcpy(b, &v, sizeof v);
    s.append(b, sizeof b);
  }
  return s;
}

FilterCache::Shard& FilterCache::ShardOf(const std::string& key) {
  return shards_[std::hash<std::string>()(key) % kShards];
}

std::shared_ptr<const std::string> FilterCache::Find(const FilterKey& key) {
  std::string k = KeyOf(key);
  Shard& s = ShardOf(k);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.index.find(k);
  if (it == s.index.end()) return nullptr;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->filter;
}

void FilterCache::Insert(const FilterKey& key, std::string filter) {
  std::string k = KeyOf(key);
  Shard& s = ShardOf(k);
  const size_t cost = filter.size() + k.size() + key.run_id.size() + kEntryOverhead;
  if (cost > max_shard_bytes_) return;
  auto value = std::make_shared<const std::string>(std::move(filter));
  std::lock_guard<std::mutex> lock(s.mu);
  if (auto it = s.index.find(k); it != s.index.end()) {
    s.bytes -= it->second->filter->size();
    it->second->filter = value;
    s.bytes += value->size();
    s.lru.splice(s.lru.begin(), s.lru, it->second);
  } else {
    s.lru.push_front(Entry{std::move(k), std::string(key.run_id), value});
    s.index.emplace(s.lru.front().key, s.lru.begin());
    s.bytes += cost;
  }
  while (s.bytes > max_shard_bytes_ && !s.lru.empty()) {
    const Entry& last = s.lru.back();
    s.bytes -= last.filter->size() + last.key.size() + last.run_id.size() + kEntryOverhead;
    s.index.erase(last.key);
    s.lru.pop_back();
  }
}

void FilterCache::DropRun(std::string_view run_id) {
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto it = s.lru.begin(); it != s.lru.end();) {
      if (it->run_id != run_id) {
        ++it;
        continue;
      }
      s.bytes -= it->filter->size() + it->key.size() + it->run_id.size() + kEntryOverhead;
      s.index.erase(it->key);
      it = s.lru.erase(it);
    }
  }
}

void FilterCache::Clear() {
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    s.index.clear();
    s.lru.clear();
    s.bytes = 0;
  }
}

size_t FilterCache::bytes() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.bytes;
  }
  return n;
}

}  // namespace wanllmdb
