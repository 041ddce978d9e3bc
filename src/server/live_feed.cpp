#include "server/live_feed.h"

#include "core/thread_name.h"
#include "server/live_hub.h"
#include "store/query_engine.h"

namespace wanllmdb {

LiveFeed::LiveFeed(LiveHub& hub, LogStore& store)
    : hub_(hub), store_(store), thread_([this] { FetchLoop(); }) {
  NameThread(thread_, "wl-live");
}

LiveFeed::~LiveFeed() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LiveFeed::OnMessage(const BusMessage& m) {
  switch (m.kind) {
    case BusMessage::Kind::kCommit:
      if (m.lines && !m.lines->empty()) {
        CommitEvent e;
        e.run_id = m.run_id;
        e.first_line = m.first_line;
        e.last_line = m.last_line;
        e.lines = m.lines;
        hub_.OnCommit(e);
        return;
      }
      if (!hub_.KnownLastLine(m.run_id)) return;  // nobody here watches it
      {
        std::lock_guard lock(mu_);
        int64_t& target = pending_[m.run_id];
        target = std::max(target, m.last_line);
      }
      cv_.notify_one();
      return;
    case BusMessage::Kind::kRunState:
      hub_.PublishRunState(m.run_id, m.state, m.exit_code);
      return;
    case BusMessage::Kind::kCleared:
      hub_.PublishCleared(m.run_id, m.clears);
      return;
    case BusMessage::Kind::kProgress:
      if (m.partial) hub_.PublishProgress(m.run_id, m.partial);
      return;
    case BusMessage::Kind::kResync: {
      std::lock_guard lock(mu_);
      resync_ = true;
    }
      cv_.notify_one();
      return;
  }
}

void LiveFeed::FetchLoop() {
  while (true) {
    std::map<std::string, int64_t> work;
    bool resync = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || resync_ || !pending_.empty(); });
      if (stopping_) return;
      work.swap(pending_);
      resync = resync_;
      resync_ = false;
    }
    if (resync) Resync();
    for (const auto& [run, last] : work) Fetch(run, last);
  }
}

void LiveFeed::Fetch(const std::string& run_id, int64_t last_line) {
  auto known = hub_.KnownLastLine(run_id);
  if (!known || last_line <= *known) return;
  if (*known == 0 || last_line - *known > kMaxFetchLines) {
    hub_.OnLinesAvailable(run_id, last_line);
    return;
  }
  QueryEngine engine(store_);
  auto matcher = LineMatcher::Compile({});
  ListRequest req;
  req.after_line = *known;
  req.limit = static_cast<int>(last_line - *known);
  auto page =
      matcher.ok() ? engine.List(run_id, **matcher, req) : Result<ListResult>(matcher.status());
  if (!page.ok() || page->lines.empty()) {
    hub_.OnLinesAvailable(run_id, last_line);  // the viewers read it themselves
    return;
  }
  CommitEvent e;
  e.run_id = run_id;
  e.first_line = page->lines.front().line_number;
  e.last_line = page->lines.back().line_number;
  e.lines = std::make_shared<const std::vector<LogLine>>(std::move(page->lines));
  hub_.OnCommit(e);
  if (e.last_line < last_line) hub_.OnLinesAvailable(run_id, last_line);
}

void LiveFeed::Resync() {
  for (const std::string& run_id : hub_.WatchedRuns()) {
    auto run = store_.GetRun(run_id);
    if (!run.ok()) {
      // Deleted while the bus was away: its viewers drop what they show, as they would have.
      if (run.status().code() == Code::kNotFound) hub_.PublishCleared(run_id, 0);
      continue;
    }
    // A clear comes first: the lines stored after it are fetched below.
    hub_.PublishMissedClear(run_id, run->clears);
    Fetch(run_id, run->last_line);
    if (run->state != RunState::kRunning) hub_.PublishRunState(run_id, run->state, run->exit_code);
  }
}

}  // namespace wanllmdb
