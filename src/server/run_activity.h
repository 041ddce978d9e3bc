// RunActivity: when each run was last heard from, and the sweep that marks a `running` run
// `crashed` once no writer has been heard from for `crash_after` (doc/api.md "Crashed by silence").
//
// Why: a writer that dies without a word (SIGKILL of a script capturing in-process, a machine
// lost) can never say so; without this its run would stay `running` forever. Live writers keep
// their runs fresh by writing, or by an empty batch (a heartbeat) when they have nothing to say.
//
// Kept in memory only: after a server restart every running run gets a full `crash_after` from
// the first sweep. A run that hears from a writer again after the sweep crashed it is `running`
// again (the writer was only cut off).
//
// Thread-safety: thread-safe (one mutex); the sweep runs on its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/live_bus.h"
#include "store/log_store.h"

namespace wanllmdb {

class RunActivity {
 public:
  // `crash_after_s` <= 0: no sweep (Touch still revives nothing).
  RunActivity(LogStore& store, LiveBus& bus, double crash_after_s);
  ~RunActivity();
  RunActivity(const RunActivity&) = delete;
  RunActivity& operator=(const RunActivity&) = delete;

  // A writer was heard from (ingest, progress, run create/patch). When the sweep had marked the
  // run crashed, it is set running again.
  void Touch(const std::string& run_id);
  // Starts the sweep thread (no-op without a crash_after).
  void Start();
  void Stop();
  // Told (on the sweep thread) of every run the sweep marks crashed. Set before Start.
  void SetOnCrashed(std::function<void(const std::string& run_id)> f) { on_crashed_ = std::move(f); }

 private:
  void Loop();
  void SweepOnce();

  LogStore& store_;
  LiveBus& bus_;  // state changes reach the viewers of every node
  const int64_t crash_after_us_;
  void Revive(const std::string& run_id);  // sweep thread: crashed → running again
  std::thread thread_;
  std::function<void(const std::string&)> on_crashed_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_:
  bool stopping_ = false;
  std::unordered_map<std::string, int64_t> last_heard_us_;  // monotonic
  std::unordered_set<std::string> swept_;                   // crashed by the sweep
  // Swept runs heard from again, revived on the sweep thread: Touch runs inside the store's
  // commit listener (its writer thread), where a store write would wait for itself.
  std::vector<std::string> to_revive_;
};

}  // namespace wanllmdb
