#include "server/match_locator.h"

#include <algorithm>

namespace wanllmdb {

std::shared_ptr<const MatchLocator::Index> MatchLocator::Find(const std::string& run_id,
                                                              const std::string& key) {
  std::lock_guard lock(mu_);
  auto* run = runs_.Find(run_id);
  if (!run) return nullptr;
  for (const auto& [k, index] : run->value.by_key)
    if (k == key) return index;
  return nullptr;
}

void MatchLocator::Publish(const std::string& run_id, const std::string& key,
                           std::shared_ptr<const Index> index) {
  std::lock_guard lock(mu_);
  auto& run = runs_.Touch(run_id);
  auto& by_key = run.value.by_key;
  auto cost = [](const std::string& k, const Index& x) {
    return static_cast<std::ptrdiff_t>(k.size() + x.bytes());
  };
  for (auto it = by_key.begin(); it != by_key.end(); ++it) {
    if (it->first != key) continue;
    runs_.Charge(run, -cost(it->first, *it->second));
    by_key.erase(it);
    break;
  }
  if (by_key.size() >= kFiltersPerRun) {
    runs_.Charge(run, -cost(by_key.front().first, *by_key.front().second));
    by_key.erase(by_key.begin());
  }
  runs_.Charge(run, cost(key, *index));
  by_key.emplace_back(key, std::move(index));
  // The newest run stays even when it alone is over the budget (its filters are capped).
  while (runs_.bytes() > kMaxBytes && !runs_.IsNewest(runs_.Oldest())) runs_.DropOldest();
}

Status MatchLocator::Count(const std::string& run_id, const LineMatcher& matcher,
                           const std::vector<StoredChunk>& chunks, Index* grown) {
  const size_t n = chunks.size();
  std::vector<int64_t> counts(n, 0);
  const LogFilter& f = matcher.filter();
  if (f.counts_from_levels()) {
    for (size_t k = 0; k < n; ++k) counts[k] = f.LinesOfLevels(chunks[k].level_counts);
  } else {
    // One scan over the new ranges; each match counts for the range holding its line. The
    // ranges are those of the metadata just read: a merge in between changes the chunks the
    // scan reads, not the lines of a range.
    size_t k = 0;
    Status s = engine_.Scan(
        run_id, matcher, chunks.front().first_line, chunks.back().last_line, false,
        [&](const LineView& v) {
          while (k + 1 < n && v.line_number > chunks[k].last_line) ++k;
          ++counts[k];
          return true;
        },
        QueryEngine::kWholeRangeFirstPage);
    if (!s.ok()) return s;
  }
  for (size_t k = 0; k < n; ++k) {
    const StoredChunk& c = chunks[k];
    grown->first.push_back(c.first_line);
    grown->last.push_back(c.last_line);
    grown->before.push_back(grown->all);
    grown->all += counts[k];
    grown->covered = c.last_line;
  }
  return Status::Ok();
}

Result<std::shared_ptr<const MatchLocator::Index>> MatchLocator::IndexFor(
    const std::string& run_id, const std::string& key, const std::string& generation,
    const LineMatcher& matcher) {
  std::shared_ptr<const Index> have = Find(run_id, key);
  if (have && have->generation != generation) have.reset();
  ChunkQuery q;
  q.with_payload = false;
  q.max_chunks = keys_per_read_;
  q.from_line = have ? have->covered + 1 : 1;
  std::shared_ptr<Index> grown;
  while (true) {
    auto chunks = store_.ReadChunks(run_id, q);
    if (!chunks.ok()) return chunks.status();
    if (chunks->empty()) break;
    if (!grown) grown = have ? std::make_shared<Index>(*have) : std::make_shared<Index>();
    // Only the first chunk of an answer can start at or before the covered line: a merge
    // joined ranges we hold with new ones. Merges join whole chunks, so it begins where one of
    // our ranges does: cut the index back to there and count the merged chunk anew. Otherwise
    // (not expected) read the run afresh.
    const int64_t start = chunks->front().first_line;
    if (start <= grown->covered) {
      auto it = std::lower_bound(grown->first.begin(), grown->first.end(), start);
      if (it == grown->first.end() || *it != start) {
        grown = std::make_shared<Index>();
        q.from_line = 1;
        continue;
      }
      const size_t j = static_cast<size_t>(it - grown->first.begin());
      grown->all = grown->before[j];
      grown->first.resize(j);
      grown->last.resize(j);
      grown->before.resize(j);
      grown->covered = j ? grown->last[j - 1] : 0;
    }
    if (Status s = Count(run_id, matcher, *chunks, grown.get()); !s.ok()) {
      // Over the query budget on a huge run, or the client left: what was counted so far is
      // kept (the index is whole up to `covered`), so the next locate goes on from there
      // instead of starting over and failing the same way.
      if (grown->covered > (have ? have->covered : 0)) {
        grown->generation = generation;
        Publish(run_id, key, grown);
      }
      return s;
    }
    q.from_line = grown->covered + 1;
  }
  if (!grown) {
    if (have) return have;
    grown = std::make_shared<Index>();
  }
  grown->generation = generation;
  Publish(run_id, key, grown);
  return std::shared_ptr<const Index>(grown);
}

Status MatchLocator::Locate(const std::string& run_id, const std::string& generation,
                            const LineMatcher& matcher, int64_t line, int64_t* index,
                            int64_t* total) {
  *index = 0;
  *total = 0;
  auto idx = IndexFor(run_id, matcher.filter().Key(), generation, matcher);
  if (!idx.ok()) return idx.status();
  const Index& x = **idx;
  *total = x.all;
  // The first range that ends at or after `line`: all before it count whole; it counts the
  // matching lines before `line` in it, decoded.
  size_t k = std::lower_bound(x.last.begin(), x.last.end(), line) - x.last.begin();
  if (k == x.last.size()) {
    *index = *total;
    return Status::Ok();
  }
  *index = x.before[k];
  if (x.first[k] >= line) return Status::Ok();
  return engine_.Scan(run_id, matcher, x.first[k], line - 1, false, [&](const LineView&) {
    ++*index;
    return true;
  });
}

void MatchLocator::Forget(const std::string& run_id) {
  std::lock_guard lock(mu_);
  runs_.Drop(run_id);
}

}  // namespace wanllmdb
