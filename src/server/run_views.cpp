#include "server/run_views.h"

#include <algorithm>

#include "core/ansi.h"

namespace wanllmdb {
namespace {

// A view built this long ago is rebuilt: retention or a clear may have changed the run's lines
// below `up_to_line` (a clear through this server forgets them at once).
constexpr auto kMaxAge = std::chrono::minutes(10);

// Interns writers: the fold rules only compare them.
class WriterIds {
 public:
  uint32_t Of(std::string_view w) {
    auto it = ids_.find(std::string(w));
    if (it != ids_.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(ids_.size());
    ids_.emplace(std::string(w), id);
    return id;
  }

 private:
  std::unordered_map<std::string, uint32_t> ids_;
};

FoldLine DigestOf(const LineView& v, WriterIds* writers, std::string* scratch) {
  std::string_view text = v.message;
  if (HasEscapes(text)) {
    scratch->clear();
    AppendVisibleText(text, scratch);
    text = *scratch;
  }
  return MakeFoldLine(text, writers->Of(v.writer), static_cast<uint8_t>(v.source), v.timestamp_us);
}

}  // namespace

int64_t RunView::PositionOf(int64_t line) const {
  const int64_t want = line - base_line;
  int64_t best_pos = total;
  int64_t best_off = INT64_MAX;
  for (size_t p = 0; p < order.size(); ++p) {
    const int64_t off = order[p];
    if (off == want) return static_cast<int64_t>(p);
    if (off > want && off < best_off) {
      best_off = off;
      best_pos = static_cast<int64_t>(p);
    }
  }
  return best_pos;
}

Result<std::shared_ptr<const RunView>> RunViews::Build(QueryEngine& engine,
                                                       const std::string& run_id,
                                                       const LineMatcher& matcher, bool time_order,
                                                       int64_t up_to_line) {
  auto view = std::make_shared<RunView>();
  view->up_to_line = up_to_line;
  view->time_order = time_order;
  WriterIds writers;
  std::string scratch;
  FoldBuilder folds([&](const Fold& f, std::span<const int64_t> holes) {
    view->folds.push_back(f);
    view->holes.insert(view->holes.end(), holes.begin(), holes.end());
  });
  if (!time_order) {
    // Line order: the rules stream over the scan; nothing per line is kept.
    Status s = engine.Scan(run_id, matcher, 1, up_to_line, false, [&](const LineView& v) {
      folds.Add(DigestOf(v, &writers, &scratch));
      ++view->total;
      return true;
    });
    if (!s.ok()) return s;
    folds.Finish();
    return std::shared_ptr<const RunView>(std::move(view));
  }
  struct Entry {
    FoldLine digest;
    uint32_t offset;
  };
  std::vector<Entry> entries;
  bool too_big = false;
  Status s = engine.Scan(run_id, matcher, 1, up_to_line, false, [&](const LineView& v) {
    if (entries.empty()) view->base_line = v.line_number;
    const int64_t off = v.line_number - view->base_line;
    if (static_cast<int64_t>(entries.size()) >= kMaxTimeOrderLines || off > UINT32_MAX) {
      too_big = true;
      return false;
    }
    entries.push_back({DigestOf(v, &writers, &scratch), static_cast<uint32_t>(off)});
    return true;
  });
  if (!s.ok()) return s;
  if (too_big) {
    return Status(Code::kInvalidValue, "sort=time: the view has more than " +
                                           std::to_string(kMaxTimeOrderLines) +
                                           " lines; narrow it with filters");
  }
  // Scanned in line order, so a stable sort by time keeps line order among equal timestamps.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.digest.timestamp_us < b.digest.timestamp_us;
  });
  view->order.reserve(entries.size());
  for (const Entry& e : entries) {
    view->order.push_back(e.offset);
    folds.Add(e.digest);
  }
  folds.Finish();
  view->total = static_cast<int64_t>(entries.size());
  return std::shared_ptr<const RunView>(std::move(view));
}

Result<std::shared_ptr<const RunView>> RunViews::Get(const std::string& run_id,
                                                     const LineMatcher& matcher,
                                                     const std::string& filter_key, bool time_order,
                                                     int64_t up_to_line) {
  std::string key =
      run_id + '\n' + (time_order ? "t" : "l") + std::to_string(up_to_line) + '\n' + filter_key;
  {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      if (Clock::now() - it->second->built < kMaxAge) {
        lru_.splice(lru_.begin(), lru_, it->second);
        return it->second->view;
      }
      bytes_ -= it->second->view->Bytes();
      lru_.erase(it->second);
      index_.erase(it);
    }
  }
  auto view = Build(engine_, run_id, matcher, time_order, up_to_line);
  if (!view.ok()) return view.status();
  Insert(Entry{std::move(key), run_id, *view, Clock::now()});
  return *view;
}

void RunViews::Insert(Entry e) {
  const size_t bytes = e.view->Bytes();
  if (bytes > max_bytes_) return;  // served once, never kept
  std::lock_guard lock(mu_);
  if (index_.count(e.key)) return;  // another request built it meanwhile
  lru_.push_front(std::move(e));
  index_[lru_.front().key] = lru_.begin();
  bytes_ += bytes;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    bytes_ -= lru_.back().view->Bytes();
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void RunViews::Forget(const std::string& run_id) {
  std::lock_guard lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->run_id == run_id) {
      bytes_ -= it->view->Bytes();
      index_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace wanllmdb
