#include "store/filter_cache.h"

namespace wanllmdb {
namespace {

// What an entry costs besides its filter bytes: the hash node and the shared string.
constexpr size_t kEntryOverhead = 96;
constexpr size_t kRunOverhead = 160;

}  // namespace

FilterCache::FilterCache(size_t max_bytes) : max_bytes_(max_bytes), runs_(kRunOverhead) {}

void FilterCache::FindAll(std::string_view run_id, const std::vector<FilterKey>& keys,
                          std::vector<Filter>* out) {
  out->assign(keys.size(), nullptr);
  std::lock_guard<std::mutex> lock(mu_);
  const auto* run = runs_.Find(run_id);
  if (!run) return;
  for (size_t k = 0; k < keys.size(); ++k) {
    auto e = run->value.find(keys[k].first_line);
    if (e != run->value.end() && e->second.last_line == keys[k].last_line &&
        e->second.token == keys[k].token)
      (*out)[k] = e->second.filter;
  }
}

void FilterCache::Insert(std::string_view run_id, const FilterKey& key, Filter filter) {
  const size_t cost = filter->size() + kEntryOverhead;
  std::lock_guard<std::mutex> lock(mu_);
  auto& run = runs_.Touch(run_id);
  auto [e, added] = run.value.try_emplace(key.first_line);
  if (!added)
    runs_.Charge(run, -static_cast<std::ptrdiff_t>(e->second.filter->size() + kEntryOverhead));
  e->second = Entry{key.last_line, key.token, std::move(filter)};
  runs_.Charge(run, static_cast<std::ptrdiff_t>(cost));
  EvictLocked();
}

void FilterCache::EvictLocked() {
  // Never the run just used (at the front), unless it alone is over the bound.
  while (runs_.bytes() > max_bytes_ && !runs_.empty()) {
    auto& last = runs_.Oldest();
    if (runs_.IsNewest(last) && last.value.size() > 1) {
      // One run bigger than the whole cache: drop its entries one at a time instead.
      auto e = last.value.begin();
      runs_.Charge(last, -static_cast<std::ptrdiff_t>(e->second.filter->size() + kEntryOverhead));
      last.value.erase(e);
      continue;
    }
    runs_.DropOldest();
  }
}

void FilterCache::DropRun(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  runs_.Drop(run_id);
}

size_t FilterCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_.bytes();
}

}  // namespace wanllmdb
