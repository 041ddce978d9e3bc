// RunViews: what the viewer needs of a whole view (one run, one set of filters, line or time
// order) that a page of lines cannot tell: the view's folds (core/fold_rules.h) and, in time
// order, which line is at each position (lines sorted by (timestamp, line number): the
// interleave-by-time view of several writers). Built by one scan of the run's lines up to a
// given line and cached, so paging a 10M-line view never scans it again.
//
// Memory: 4 bytes per line of a time-ordered view plus 24 per fold; the cache holds at most
// `max_bytes` of them (least recently used out) and forgets entries after a while, so a view of
// a run that retention or Clear changed is rebuilt.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/fold_rules.h"
#include "core/status.h"
#include "store/query_engine.h"

namespace wanllmdb {

struct RunView {  // immutable once built: requests share it (shared_ptr<const>) without locks
  int64_t up_to_line = 0;  // the view holds the matching lines <= this
  int64_t total = 0;       // lines in the view
  bool time_order = false;
  // Time order: the line at position p is base_line + order[p]. Empty in line order.
  int64_t base_line = 0;
  std::vector<uint32_t> order;
  std::vector<Fold> folds;     // by start position
  std::vector<int64_t> holes;  // every fold's holes, fold after fold (Fold::holes of each)

  size_t Bytes() const {
    return order.size() * sizeof(uint32_t) + folds.size() * sizeof(Fold) +
           holes.size() * sizeof(int64_t);
  }
  int64_t LineAt(int64_t position) const { return base_line + order[position]; }
  // Time order: the position of `line` when the view holds it, else of the smallest line number
  // after it that the view holds, else `total`.
  int64_t PositionOf(int64_t line) const;
};

// Largest view kept in time order (its sort holds 32 bytes per line while it is built).
inline constexpr int64_t kMaxTimeOrderLines = 20'000'000;

// Thread-safety: thread-safe. Two requests for the same missing view may both build it (the
// second result is dropped); nothing is held locked while scanning.
class RunViews {
 public:
  RunViews(QueryEngine& engine, size_t max_bytes) : engine_(engine), max_bytes_(max_bytes) {}

  // The view of `run_id` for `matcher` (whose filters `filter_key` names) up to `up_to_line`.
  Result<std::shared_ptr<const RunView>> Get(const std::string& run_id, const LineMatcher& matcher,
                                             const std::string& filter_key, bool time_order,
                                             int64_t up_to_line);
  // Drops every view of a run (its lines were cleared).
  void Forget(const std::string& run_id);

  // Builds a view without the cache (tests, benches).
  static Result<std::shared_ptr<const RunView>> Build(QueryEngine& engine,
                                                      const std::string& run_id,
                                                      const LineMatcher& matcher, bool time_order,
                                                      int64_t up_to_line);

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::string key;
    std::string run_id;
    std::shared_ptr<const RunView> view;
    Clock::time_point built;
  };
  void Insert(Entry e);

  QueryEngine& engine_;
  const size_t max_bytes_;
  std::mutex mu_;
  std::list<Entry> lru_;  // most recent first; guarded by mu_
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;  // guarded by mu_
  size_t bytes_ = 0;                                                   // guarded by mu_
};

}  // namespace wanllmdb
