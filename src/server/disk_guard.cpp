#include "server/disk_guard.h"

#include <sys/statvfs.h>

#include <chrono>

namespace wanllmdb {
namespace {

constexpr int64_t kRefreshUs = 1000000;

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DiskGuard::DiskGuard(std::string dir) : dir_(std::move(dir)) {}

std::optional<DiskSpace> DiskGuard::Refresh() const {
  struct statvfs st {};
  if (dir_.empty() || ::statvfs(dir_.c_str(), &st) != 0) {
    free_bytes_.store(-1, std::memory_order_relaxed);
    return std::nullopt;
  }
  DiskSpace d;
  d.free_bytes = static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
  d.total_bytes = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize);
  total_bytes_.store(d.total_bytes, std::memory_order_relaxed);
  free_bytes_.store(d.free_bytes, std::memory_order_relaxed);
  return d;
}

std::optional<DiskSpace> DiskGuard::Space() const {
  if (dir_.empty()) return std::nullopt;
  const int64_t now = SteadyMicros();
  int64_t checked = checked_at_us_.load(std::memory_order_relaxed);
  if (checked == INT64_MIN || now - checked >= kRefreshUs) {
    checked_at_us_.store(now, std::memory_order_relaxed);
    return Refresh();
  }
  int64_t free = free_bytes_.load(std::memory_order_relaxed);
  if (free < 0) return std::nullopt;
  return DiskSpace{free, total_bytes_.load(std::memory_order_relaxed)};
}

}  // namespace wanllmdb
