// StallWatch: raises a `stalled` problem (doc/problems.md) for a running run that printed no new
// line for its project's stall time (ProblemSettings::stall_after_s, default 15 min) — a job
// hung in a collective prints nothing and looks alive to everything else.
//
// A sweep every `interval` lists running runs. "No new line" is judged by two clocks: this
// node's memory of when the run last stored lines (Output), and the run's newest stored line
// timestamp (so a run written through another node is not called stalled by this one). A run
// this process has not seen yet (e.g. after a restart) gets a full stall time from the first
// sweep. One event per silence: the row's last_seen_line is the run's last line, so a later
// sweep of the same silence changes nothing, and a new silence after more output counts as a
// second occurrence.
//
// Thread-safety: thread-safe; the sweep runs on its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "server/problem_settings.h"
#include "store/log_store.h"

namespace wanllmdb {

class StallWatch {
 public:
  StallWatch(LogStore& store, ProblemSettingsCache& settings, std::chrono::milliseconds interval);
  ~StallWatch();
  StallWatch(const StallWatch&) = delete;
  StallWatch& operator=(const StallWatch&) = delete;

  // The run stored new lines (ingest through this node).
  void Output(const std::string& run_id);
  void Start();
  void Stop();
  // Told (on the sweep thread) of every stall raised. Set before Start.
  void SetOnStalled(std::function<void(const std::string& run_id)> f) {
    on_stalled_ = std::move(f);
  }
  // One sweep now (tests, and the thread's loop).
  void SweepOnce();

 private:
  void Loop();

  LogStore& store_;
  ProblemSettingsCache& settings_;
  const std::chrono::milliseconds interval_;
  std::thread thread_;
  std::function<void(const std::string&)> on_stalled_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_:
  bool stopping_ = false;
  std::unordered_map<std::string, int64_t> last_output_us_;  // wall clock, micros
  std::unordered_map<std::string, int64_t> raised_at_line_;  // stall raised at this last line
};

}  // namespace wanllmdb
