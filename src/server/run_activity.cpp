#include "server/run_activity.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/thread_name.h"
#include "core/time_util.h"

namespace wanllmdb {
namespace {

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs listed per sweep; more running runs than this are swept over several rounds.
constexpr int kSweepBatch = 1000;

void PublishState(LiveBus& bus, const std::string& run_id, const RunInfo& r) {
  BusMessage m;
  m.kind = BusMessage::Kind::kRunState;
  m.run_id = run_id;
  m.state = r.state;
  m.exit_code = r.exit_code;
  bus.Publish(m);
}

}  // namespace

RunActivity::RunActivity(LogStore& store, LiveBus& bus, double crash_after_s)
    : store_(store), bus_(bus), crash_after_us_(static_cast<int64_t>(crash_after_s * 1e6)) {}

RunActivity::~RunActivity() {
  Stop();
}

void RunActivity::Touch(const std::string& run_id) {
  if (crash_after_us_ <= 0) return;
  {
    std::lock_guard lock(mu_);
    last_heard_us_[run_id] = SteadyMicros();
    if (swept_.erase(run_id) == 0) return;
    to_revive_.push_back(run_id);
  }
  cv_.notify_all();
}

void RunActivity::Revive(const std::string& run_id) {
  RunUpdate u;
  u.state = RunState::kRunning;
  u.exit_code = std::optional<int64_t>();
  auto before = store_.GetRun(run_id);
  if (!before.ok() || before->state != RunState::kCrashed) return;  // someone set it since
  auto r = store_.UpdateRun(run_id, u);
  if (r.ok()) PublishState(bus_, run_id, *r);
}

void RunActivity::Start() {
  if (crash_after_us_ <= 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
  NameThread(thread_, "wl-activity");
}

void RunActivity::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RunActivity::Loop() {
  // A quarter of the silence, so a run is marked at most 25% late; at least 4 sweeps a second
  // are never needed (and at most one every 30 s keeps long silences accurate).
  auto interval = std::chrono::microseconds(
      std::clamp<int64_t>(crash_after_us_ / 4, 250 * 1000, 30 * 1000 * 1000));
  std::unique_lock lock(mu_);
  auto next_sweep = std::chrono::steady_clock::now() + interval;
  while (!stopping_) {
    cv_.wait_until(lock, next_sweep, [&] { return stopping_ || !to_revive_.empty(); });
    if (stopping_) break;
    std::vector<std::string> revive;
    revive.swap(to_revive_);
    lock.unlock();
    for (const std::string& id : revive) Revive(id);
    if (std::chrono::steady_clock::now() >= next_sweep) {
      SweepOnce();
      next_sweep = std::chrono::steady_clock::now() + interval;
    }
    lock.lock();
  }
}

void RunActivity::SweepOnce() {
  RunQuery q;
  q.state = RunState::kRunning;
  q.limit = kSweepBatch;
  auto page = store_.ListRuns(q);
  if (!page.ok()) return;
  const std::vector<RunInfo>* runs = &page->runs;
  int64_t now = SteadyMicros();
  std::vector<std::string> silent;
  {
    std::lock_guard lock(mu_);
    for (const RunInfo& r : *runs) {
      // First seen by this server process (e.g. after a restart): the silence starts now.
      auto [it, inserted] = last_heard_us_.try_emplace(r.id, now);
      if (!inserted && now - it->second >= crash_after_us_) silent.push_back(r.id);
    }
    // Forget runs that are no longer running (finished, deleted): the map stays bounded.
    if (last_heard_us_.size() > 2 * runs->size() + 1000) {
      std::unordered_set<std::string> live;
      for (const RunInfo& r : *runs) live.insert(r.id);
      for (auto it = last_heard_us_.begin(); it != last_heard_us_.end();) {
        it = live.count(it->first) ? std::next(it) : last_heard_us_.erase(it);
      }
    }
  }
  for (const std::string& id : silent) {
    auto before = store_.GetRun(id);
    if (!before.ok() || before->state != RunState::kRunning) continue;
    {
      std::lock_guard lock(mu_);  // heard from while we looked: not silent
      auto it = last_heard_us_.find(id);
      if (it != last_heard_us_.end() && SteadyMicros() - it->second < crash_after_us_) continue;
      swept_.insert(id);
      if (swept_.size() > 100000) swept_.clear();
    }
    RunUpdate u;
    u.state = RunState::kCrashed;
    auto r = store_.UpdateRun(id, u);
    if (!r.ok()) continue;
    std::fprintf(stderr, "wanllmdb: run %s: no writer heard from for %.0f s, marked crashed\n",
                 id.c_str(), static_cast<double>(crash_after_us_) / 1e6);
    PublishState(bus_, id, *r);
    if (on_crashed_) on_crashed_(id);
  }
}

}  // namespace wanllmdb
