#include "server/level_locator.h"

#include <algorithm>

namespace wanllmdb {

Result<std::shared_ptr<const LevelLocator::Index>> LevelLocator::IndexFor(
    const std::string& run_id, const std::string& generation) {
  std::shared_ptr<const Index> have;
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it != runs_.end() && it->second->generation == generation) have = it->second;
  }
  ChunkQuery q;
  q.with_payload = false;
  q.max_chunks = 4096;
  q.from_line = have ? have->covered + 1 : 1;
  std::shared_ptr<Index> grown;
  while (true) {
    auto chunks = store_.ReadChunks(run_id, q);
    if (!chunks.ok()) return chunks.status();
    if (chunks->empty()) break;
    if (!grown) grown = have ? std::make_shared<Index>(*have) : std::make_shared<Index>();
    for (const StoredChunk& c : *chunks) {
      if (c.first_line <= grown->covered) {
        // A merge joined a chunk we have with one we do not: its counts overlap ours. Rare
        // (merges pack small chunks soon after they are written): read the run afresh.
        std::lock_guard lock(mu_);
        runs_.erase(run_id);
        have.reset();
        grown.reset();
        break;
      }
      grown->first.push_back(c.first_line);
      grown->last.push_back(c.last_line);
      grown->before.push_back(grown->all);
      for (int l = 0; l < kLevelCount; ++l) grown->all[l] += c.level_counts[l];
      grown->covered = c.last_line;
    }
    if (!grown) {
      q.from_line = 1;  // start over (see above)
      continue;
    }
    q.from_line = grown->covered + 1;
  }
  if (!grown) {
    if (have) return have;
    grown = std::make_shared<Index>();
  }
  grown->generation = generation;
  std::lock_guard lock(mu_);
  if (runs_.size() >= kMaxRuns && !runs_.count(run_id)) runs_.erase(runs_.begin());
  runs_[run_id] = grown;
  return std::shared_ptr<const Index>(grown);
}

Status LevelLocator::Locate(const std::string& run_id, const std::string& generation,
                            const LineMatcher& matcher, int64_t line, int64_t* index,
                            int64_t* total) {
  *index = 0;
  *total = 0;
  auto idx = IndexFor(run_id, generation);
  if (!idx.ok()) return idx.status();
  const Index& x = **idx;
  const uint32_t mask = matcher.filter().level_mask;
  auto count = [mask](const std::array<int64_t, kLevelCount>& c) {
    int64_t n = 0;
    for (int l = 0; l < kLevelCount; ++l)
      if (mask & (1u << l)) n += c[l];
    return n;
  };
  *total = count(x.all);
  // The first range that ends at or after `line`: all before it count whole; it counts the
  // matching lines before `line` in it, decoded.
  size_t k = std::lower_bound(x.last.begin(), x.last.end(), line) - x.last.begin();
  if (k == x.last.size()) {
    *index = *total;
    return Status::Ok();
  }
  *index = count(x.before[k]);
  if (x.first[k] >= line) return Status::Ok();
  return engine_.Scan(run_id, matcher, x.first[k], line - 1, false, [&](const LineView&) {
    ++*index;
    return true;
  });
}

void LevelLocator::Forget(const std::string& run_id) {
  std::lock_guard lock(mu_);
  runs_.erase(run_id);
}

}  // namespace wanllmdb
