#include "store/filter_cache.h"

namespace wanllmdb {
namespace {

// What an entry costs besides its filter bytes: the hash node and the shared string.
constexpr size_t kEntryOverhead = 96;
constexpr size_t kRunOverhead = 160;

}  // namespace

FilterCache::FilterCache(size_t max_bytes) : max_bytes_(max_bytes) {}

void FilterCache::FindAll(std::string_view run_id, const std::vector<FilterKey>& keys,
                          std::vector<Filter>* out) {
  out->assign(keys.size(), nullptr);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  lru_.splice(lru_.begin(), lru_, it->second);
  const Run& run = *it->second;
  for (size_t k = 0; k < keys.size(); ++k) {
    auto e = run.by_first_line.find(keys[k].first_line);
    if (e != run.by_first_line.end() && e->second.last_line == keys[k].last_line &&
        e->second.token == keys[k].token)
      (*out)[k] = e->second.filter;
  }
}

void FilterCache::Insert(std::string_view run_id, const FilterKey& key, Filter filter) {
  const size_t cost = filter->size() + kEntryOverhead;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) {
    lru_.push_front(Run{std::string(run_id), {}, kRunOverhead});
    it = runs_.emplace(lru_.front().id, lru_.begin()).first;
    bytes_ += kRunOverhead;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second);
  }
  Run& run = *it->second;
  auto [e, added] = run.by_first_line.try_emplace(key.first_line);
  if (!added) {
    const size_t old = e->second.filter->size() + kEntryOverhead;
    run.bytes -= old;
    bytes_ -= old;
  }
  e->second = Entry{key.last_line, key.token, std::move(filter)};
  run.bytes += cost;
  bytes_ += cost;
  EvictLocked();
}

void FilterCache::EvictLocked() {
  // Never the run just used (at the front), unless it alone is over the bound.
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    Run& last = lru_.back();
    if (&last == &lru_.front() && last.by_first_line.size() > 1) {
      // One run bigger than the whole cache: drop its entries one at a time instead.
      auto e = last.by_first_line.begin();
      const size_t cost = e->second.filter->size() + kEntryOverhead;
      last.bytes -= cost;
      bytes_ -= cost;
      last.by_first_line.erase(e);
      continue;
    }
    bytes_ -= last.bytes;
    runs_.erase(last.id);
    lru_.pop_back();
  }
}

void FilterCache::DropRun(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  bytes_ -= it->second->bytes;
  auto node = it->second;
  runs_.erase(it);
  lru_.erase(node);
}

size_t FilterCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace wanllmdb
