#include "store/scan_helpers.h"

#include <algorithm>

#include "core/thread_name.h"
#include "core/thread_priority.h"

namespace wanllmdb {

ScanHelpers::ScanHelpers(int threads, int nice) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, nice] { Loop(nice); });
    NameThread(threads_.back(), "wl-scan");
  }
}

ScanHelpers::~ScanHelpers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

ScanHelpers& ScanHelpers::Shared() {
  // Never destroyed: scans may still run on detached paths at exit; the threads die with it.
  static ScanHelpers* helpers = new ScanHelpers(
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), kReaderNice);
  return *helpers;
}

bool ScanHelpers::TryStart(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // One task at a time waits for pickup: a second would find `idle_` not yet decremented.
    if (idle_ == 0 || task_) return false;
    task_ = std::move(fn);
    --idle_;
  }
  cv_.notify_one();
  return true;
}

void ScanHelpers::Loop(int nice) {
  SetThisThreadNice(nice);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    ++idle_;
    cv_.wait(lock, [&] { return stop_ || task_; });
    if (stop_) return;
    std::function<void()> fn = std::move(task_);
    task_ = nullptr;
    lock.unlock();
    fn();
    lock.lock();
  }
}

}  // namespace wanllmdb
