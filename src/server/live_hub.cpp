#include "server/live_hub.h"

#include <algorithm>

#include "server/json_out.h"

namespace wanllmdb {

CachedBatch::CachedBatch(std::string run_id, std::shared_ptr<const std::vector<LogLine>> lines)
    : run_id_(std::move(run_id)), lines_(std::move(lines)) {}

void CachedBatch::Render() const {
  std::call_once(once_, [this] {
    JsonOut j;
    offsets_.reserve(lines_->size() + 1);
    for (const LogLine& l : *lines_) {
      offsets_.push_back(static_cast<uint32_t>(json_.size()));
      j.Clear();
      j.Line(run_id_, l);
      json_.append(j.data(), j.size());
      json_.push_back(',');
    }
    offsets_.push_back(static_cast<uint32_t>(json_.size()));
  });
}

std::string_view CachedBatch::LineJson(size_t i) const {
  Render();
  return std::string_view(json_).substr(offsets_[i], offsets_[i + 1] - offsets_[i] - 1);
}

std::string_view CachedBatch::JsonFrom(size_t i) const {
  Render();
  return std::string_view(json_).substr(offsets_[i], json_.size() - offsets_[i] - 1);
}

std::shared_ptr<const std::string> CachedBatch::Frame() const {
  std::call_once(frame_once_, [this] {
    std::string_view all = JsonFrom(0);
    auto f = std::make_shared<std::string>();
    f->reserve(all.size() + 32);
    f->append(R"({"type":"logs","logs":[)").append(all).append("]}");
    frame_ = std::move(f);
  });
  return frame_;
}

size_t CachedBatch::bytes() const {
  size_t b = sizeof(*this);
  for (const auto& l : *lines_) b += l.message.size() + l.writer.size() + sizeof(LogLine);
  return b * 2;  // the rendered JSON roughly doubles it
}

std::vector<std::shared_ptr<LiveSubscriber>> LiveHub::Live(RunEntry& e) {
  std::vector<std::shared_ptr<LiveSubscriber>> out;
  auto& subs = e.subscribers;
  for (size_t i = 0; i < subs.size();) {
    if (auto s = subs[i].lock()) {
      out.push_back(std::move(s));
      ++i;
    } else {
      subs[i] = subs.back();
      subs.pop_back();
    }
  }
  return out;
}

void LiveHub::Subscribe(const std::string& run_id, const std::shared_ptr<LiveSubscriber>& s) {
  std::lock_guard lock(mu_);
  runs_[run_id].subscribers.push_back(s);
}

void LiveHub::Unsubscribe(const std::string& run_id, const LiveSubscriber* s) {
  std::lock_guard lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  auto& subs = it->second.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const std::weak_ptr<LiveSubscriber>& w) {
                              auto p = w.lock();
                              return !p || p.get() == s;
                            }),
             subs.end());
  if (subs.empty()) runs_.erase(it);  // nobody watches: drop the cache too
}

void LiveHub::OnCommit(const CommitEvent& event) {
  std::vector<std::shared_ptr<LiveSubscriber>> subs;
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(event.run_id);
    if (it == runs_.end()) return;  // nobody watches this run
    RunEntry& e = it->second;
    if (!e.batches.empty() && event.last_line <= e.batches.back()->last_line() &&
        e.batches.front()->first_line() <= event.first_line)
      return;  // already cached (a remote commit read after a local one covered it)
    if (!e.batches.empty() && event.first_line != e.batches.back()->last_line() + 1) {
      // Not contiguous with the cache (lines committed by another node, read late or not at
      // all): the cache must stay one ascending run of lines, so it restarts here; cursors
      // before it read from the store.
      e.batches.clear();
      e.cached_lines = e.cached_bytes = 0;
    }
    auto batch = std::make_shared<const CachedBatch>(event.run_id, event.lines);
    e.cached_lines += batch->lines().size();
    e.cached_bytes += batch->bytes();
    e.batches.push_back(std::move(batch));
    size_t drop = 0;
    while (drop + 1 < e.batches.size() &&
           (e.cached_lines > kMaxCachedLines || e.cached_bytes > kMaxCachedBytes)) {
      e.cached_lines -= e.batches[drop]->lines().size();
      e.cached_bytes -= e.batches[drop]->bytes();
      ++drop;
    }
    e.batches.erase(e.batches.begin(), e.batches.begin() + static_cast<long>(drop));
    e.last_line = std::max(e.last_line, event.last_line);
    subs = Live(e);
  }
  for (auto& s : subs) s->OnLinesAvailable(event.last_line);
}

void LiveHub::OnLinesAvailable(const std::string& run_id, int64_t last_line) {
  std::vector<std::shared_ptr<LiveSubscriber>> subs;
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end() || last_line <= it->second.last_line) return;
    it->second.last_line = last_line;
    subs = Live(it->second);
  }
  for (auto& s : subs) s->OnLinesAvailable(last_line);
}

std::optional<int64_t> LiveHub::KnownLastLine(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return std::nullopt;
  return it->second.last_line;
}

std::vector<std::string> LiveHub::WatchedRuns() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, e] : runs_) out.push_back(id);
  return out;
}

size_t LiveHub::ViewersOf(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  auto it = runs_.find(run_id);
  return it == runs_.end() ? 0 : it->second.subscribers.size();
}

void LiveHub::PublishRunState(const std::string& run_id, RunState state,
                              std::optional<int64_t> exit_code) {
  std::vector<std::shared_ptr<LiveSubscriber>> subs;
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    subs = Live(it->second);
  }
  for (auto& s : subs) s->OnRunState(state, exit_code);
}

void LiveHub::NoteClears(const std::string& run_id, int64_t clears) {
  std::lock_guard lock(mu_);
  auto it = runs_.find(run_id);
  if (it != runs_.end()) it->second.clears = std::max(it->second.clears, clears);
}

bool LiveHub::PublishMissedClear(const std::string& run_id, int64_t clears) {
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    // Unknown (no backlog read yet): that viewer reads the store after the clear anyway.
    if (it == runs_.end() || it->second.clears < 0 || clears <= it->second.clears) return false;
  }
  PublishCleared(run_id, clears);
  return true;
}

void LiveHub::PublishCleared(const std::string& run_id, int64_t clears) {
  std::vector<std::shared_ptr<LiveSubscriber>> subs;
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    it->second.clears = std::max(it->second.clears, clears);
    it->second.batches.clear();
    it->second.cached_lines = it->second.cached_bytes = 0;
    subs = Live(it->second);
  }
  for (auto& s : subs) s->OnCleared();
}

size_t LiveHub::PublishProgress(const std::string& run_id,
                                const std::shared_ptr<const LogLine>& partial) {
  std::vector<std::shared_ptr<LiveSubscriber>> subs;
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return 0;
    subs = Live(it->second);
  }
  for (auto& s : subs) s->OnProgress(partial);
  return subs.size();
}

LiveHub::Pull LiveHub::PullAfter(const std::string& run_id, int64_t cursor) {
  Pull p;
  std::lock_guard lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return p;
  RunEntry& e = it->second;
  p.last_line = e.last_line;
  if (e.last_line <= cursor) return p;
  // Batches arrive in commit order, which is line order: find the first one past the cursor.
  auto first = std::upper_bound(
      e.batches.begin(), e.batches.end(), cursor,
      [](int64_t c, const std::shared_ptr<const CachedBatch>& b) { return c < b->last_line(); });
  if (first == e.batches.end() || (*first)->first_line() > cursor + 1) {
    p.complete = false;
  }
  p.batches.assign(first, e.batches.end());
  return p;
}

int64_t LiveHub::MaxLagLines() const {
  // Locked references are dropped outside mu_: the last one may end a session, whose destructor
  // unsubscribes (and takes mu_).
  std::vector<std::shared_ptr<LiveSubscriber>> subs;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : runs_)
      for (const auto& w : e.subscribers)
        if (auto s = w.lock()) subs.push_back(std::move(s));
  }
  int64_t lag = 0;
  for (const auto& s : subs) lag = std::max(lag, s->LagLines());
  return lag;
}

size_t LiveHub::subscriber_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, e] : runs_) n += e.subscribers.size();
  return n;
}

}  // namespace wanllmdb
