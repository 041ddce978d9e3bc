#include "server/stall_watch.h"

#include <algorithm>
#include <cstdio>
#include <unordered_set>
#include <vector>

#include "core/thread_name.h"
#include "core/time_util.h"

namespace wanllmdb {
namespace {

constexpr int kSweepBatch = 1000;  // running runs looked at per sweep

std::string Duration(int64_t s) {
  if (s % 3600 == 0) return std::to_string(s / 3600) + " h";
  if (s % 60 == 0) return std::to_string(s / 60) + " min";
  return std::to_string(s) + " s";
}

}  // namespace

StallWatch::StallWatch(LogStore& store, ProblemSettingsCache& settings,
                       std::chrono::milliseconds interval)
    : store_(store), settings_(settings), interval_(interval) {}

StallWatch::~StallWatch() {
  Stop();
}

void StallWatch::Output(const std::string& run_id) {
  std::lock_guard lock(mu_);
  last_output_us_[run_id] = NowMicros();
}

void StallWatch::Start() {
  if (interval_.count() <= 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
  NameThread(thread_, "wl-stalls");
}

void StallWatch::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StallWatch::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, interval_, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    SweepOnce();
    lock.lock();
  }
}

void StallWatch::SweepOnce() {
  RunQuery q;
  q.state = RunState::kRunning;
  q.limit = kSweepBatch;
  auto page = store_.ListRuns(q);
  if (!page.ok()) return;
  const int64_t now = NowMicros();
  std::vector<std::pair<const RunInfo*, int64_t>> candidates;  // run, its stall time (s)
  {
    std::lock_guard lock(mu_);
    std::unordered_set<std::string> live;
    for (const RunInfo& r : page->runs) {
      live.insert(r.id);
      auto [it, inserted] = last_output_us_.try_emplace(r.id, std::max(now, r.created_at_us));
      (void)inserted;
      auto raised = raised_at_line_.find(r.id);
      if (raised != raised_at_line_.end() && raised->second == r.last_line) continue;
      candidates.emplace_back(&r, it->second);
    }
    // Forget runs no longer running: the maps stay bounded by the running runs.
    if (last_output_us_.size() > 2 * live.size() + 1000) {
      for (auto it = last_output_us_.begin(); it != last_output_us_.end();)
        it = live.count(it->first) ? std::next(it) : last_output_us_.erase(it);
      for (auto it = raised_at_line_.begin(); it != raised_at_line_.end();)
        it = live.count(it->first) ? std::next(it) : raised_at_line_.erase(it);
    }
  }
  for (auto [run, heard_us] : candidates) {
    const int64_t stall_s = settings_.Get(run->project)->settings.stall_after_s;
    if (stall_s <= 0) continue;
    const int64_t stall_us = stall_s * 1000000;
    if (now - heard_us < stall_us) continue;
    // Another node may have stored lines meanwhile: its newest line's time says so.
    auto summary = store_.Summary(run->id);
    if (!summary.ok()) continue;
    if (summary->last_timestamp_us && now - *summary->last_timestamp_us < stall_us) {
      std::lock_guard lock(mu_);
      auto& t = last_output_us_[run->id];
      t = std::max(t, *summary->last_timestamp_us);
      continue;
    }
    ProblemRow row;
    row.run_id = run->id;
    row.signature = "stalled";
    row.writer = "";
    row.kind = "stalled";
    row.rule = "stalled";
    row.level = Level::kWarning;
    row.title = "No output for " + Duration(stall_s);
    row.detail = summary->last_line > 0 ? "the last line before the silence is line " +
                                              std::to_string(summary->last_line)
                                        : "the run has printed nothing";
    row.first_line = row.last_line = summary->last_line;
    // The silence's identity is the run's last line: the upsert counts a new silence (after more
    // output) as another occurrence and ignores a repeated sweep of the same one.
    row.last_seen_line = summary->last_line;
    row.occurrences = 1;
    row.first_ts_us = now;
    row.detected_at_us = now;
    if (!store_.RecordProblems({row}).ok()) continue;
    {
      std::lock_guard lock(mu_);
      raised_at_line_[run->id] = run->last_line;
    }
    if (on_stalled_) on_stalled_(run->id);
  }
}

}  // namespace wanllmdb
