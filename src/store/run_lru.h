// RunLru: the runs a per-run cache holds, most recently used first, each with the bytes it
// costs (store/filter_cache.h, store/chunk_map_cache.h). The list, the index by run id and the
// byte total live here once; what a run holds and when to evict stay with each cache.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wanllmdb {

// Thread-safety: not thread-safe; a cache holds it under its own mutex.
template <class Value>
class RunLru {
 public:
  struct Run {
    std::string id;
    Value value{};
    size_t bytes = 0;
  };

  // `run_overhead`: what a run costs before anything is in it (its node and index entry).
  explicit RunLru(size_t run_overhead) : run_overhead_(run_overhead) {}
  RunLru(const RunLru&) = delete;
  RunLru& operator=(const RunLru&) = delete;

  bool Contains(std::string_view id) const { return index_.count(id) != 0; }
  // The run, moved to the front; null when absent.
  Run* Find(std::string_view id) {
    auto it = index_.find(id);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return &*it->second;
  }
  // The run, moved to the front; added (costing run_overhead) when absent.
  Run& Touch(std::string_view id) {
    if (Run* r = Find(id)) return *r;
    lru_.push_front(Run{std::string(id), Value{}, run_overhead_});
    bytes_ += run_overhead_;
    index_.emplace(lru_.front().id, lru_.begin());
    return lru_.front();
  }
  // Adds `delta` bytes to a run's cost and the total; frees with a negative one.
  void Charge(Run& run, std::ptrdiff_t delta) {
    run.bytes += delta;
    bytes_ += delta;
  }
  void Drop(std::string_view id) {
    auto it = index_.find(id);
    if (it == index_.end()) return;
    auto node = it->second;
    bytes_ -= node->bytes;
    index_.erase(it);
    lru_.erase(node);
  }
  // The least recently used run; only when !empty().
  Run& Oldest() { return lru_.back(); }
  bool IsNewest(const Run& r) const { return &r == &lru_.front(); }
  void DropOldest() { Drop(lru_.back().id); }

  bool empty() const { return lru_.empty(); }
  size_t size() const { return lru_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  const size_t run_overhead_;
  std::list<Run> lru_;  // most recently used first
  std::unordered_map<std::string_view, typename std::list<Run>::iterator> index_;  // ids in lru_
  size_t bytes_ = 0;
};

}  // namespace wanllmdb
