// ScanHelpers: a few threads that share a scan's page with it, taking its chunks one at a time
// (decompressing and matching chunks is most of a scan's time; the scan's own thread reads the
// next page meanwhile), shared by every scan of the process. Bounded: when no helper is
// idle the scan does the work on its own thread, so a crowd of scans never starts threads of its
// own (each scan used to start one per page) nor waits in a queue behind other scans.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wanllmdb {

// Thread-safety: thread-safe.
class ScanHelpers {
 public:
  // `threads` helpers at CPU priority `nice` (the reader pool's: scans yield to ingest).
  ScanHelpers(int threads, int nice);
  ~ScanHelpers();
  ScanHelpers(const ScanHelpers&) = delete;
  ScanHelpers& operator=(const ScanHelpers&) = delete;

  // The process's helpers: one per core, at kReaderNice (core/thread_priority.h).
  static ScanHelpers& Shared();

  // Runs `fn` on an idle helper and returns true; false at once when none is idle (then `fn`
  // is not run: the caller does the work itself). The caller waits for `fn` to finish by its
  // own means (fn signals it) before anything `fn` uses goes away.
  bool TryStart(std::function<void()> fn);

 private:
  void Loop(int nice);

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> task_;  // handed to the next helper that wakes; guarded by mu_
  int idle_ = 0;                // helpers waiting for a task; guarded by mu_
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wanllmdb
