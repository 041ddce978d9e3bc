// RetentionSweeper: the background job that enforces retention policies (store/retention.h) in
// small steps, the same for every backend. Every `interval` it reads the policies and the runs
// rows, plans (store/retention_planner.h), and removes what is due a step at a time: one step
// is at most kRetentionChunksPerStep chunks of one run in one short transaction
// (LogStore::RemoveChunks), with a pause between steps (four times as long as the step took),
// so ingest and reads go on throughout.
// Then it gives free pages back to the file system in small steps (LogStore::ReclaimSpace).
// What it removed is logged, one line per run and task.
//
// Several server nodes on one PostgreSQL may all sweep: a step removes only chunks that are
// still exactly as planned (else kConflict, and the step is planned again next sweep), so two
// nodes never remove a line twice or count it off twice.
//
// Thread-safety: SweepOnce may be called from any one thread at a time; Start/Stop from the
// owner. totals() is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/log_store.h"
#include "store/retention.h"

namespace wanllmdb {

struct RetentionSweepOptions {
  RetentionPolicy defaults;  // the server-wide default (server flags); all kInherit: keep all
  double interval_s = 600;   // between sweeps; <= 0: no background sweep
  int chunks_per_step = 64;
  // Between steps, at least this, and at least `pause_factor` times what the step took: the
  // sweep keeps the store's writer busy at most 1 / (1 + pause_factor) of the time, so ingest
  // keeps the rest whatever the step costs on this machine.
  std::chrono::milliseconds step_pause{5};
  double pause_factor = 4;
  int64_t vacuum_pages_per_step = 256;       // 1 MiB of 4 KiB pages per incremental vacuum
  std::function<void(const std::string&)> log;  // the server log (null: silent)
};

struct RetentionSweepStats {
  int64_t lines = 0, bytes = 0, chunks = 0, steps = 0, runs_deleted = 0, conflicts = 0;
  int64_t pages_reclaimed = 0;
};

class RetentionSweeper {
 public:
  RetentionSweeper(LogStore& store, RetentionSweepOptions options);
  ~RetentionSweeper();
  RetentionSweeper(const RetentionSweeper&) = delete;
  RetentionSweeper& operator=(const RetentionSweeper&) = delete;

  void Start();  // the background thread (no-op when interval_s <= 0)
  void Stop();   // stops between steps; idempotent
  // One whole sweep on the calling thread. A failing Status only when the store cannot be read.
  Result<RetentionSweepStats> SweepOnce();
  // Everything removed since construction (GET /metrics).
  RetentionSweepStats totals() const;
  const RetentionPolicy& defaults() const { return options_.defaults; }

 private:
  void Loop();
  bool stopping();
  // Waits between steps: step_pause, or pause_factor × `took` if longer; false when stopping.
  bool Pause(std::chrono::steady_clock::duration took);

  LogStore& store_;
  const RetentionSweepOptions options_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // Guarded by mu_
  std::atomic<int64_t> lines_{0}, bytes_{0}, runs_deleted_{0}, pages_{0};
};

}  // namespace wanllmdb
