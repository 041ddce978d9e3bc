// DiskGuard: free space on the file system of the data directory, read with statvfs(2) at most
// once a second (a scrape or an ingest burst never turns into a storm of system calls).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace wanllmdb {

struct DiskSpace {
  int64_t free_bytes = 0;   // available to an unprivileged process (f_bavail)
  int64_t total_bytes = 0;  // size of the file system
};

// Thread-safety: thread-safe (the cached figures are atomics; two threads may both refresh).
class DiskGuard {
 public:
  // `dir`: a directory on the file system to watch; "" watches nothing (Space() is empty).
  explicit DiskGuard(std::string dir);

  // The figures at most a second old; nullopt when there is no directory or statvfs fails.
  std::optional<DiskSpace> Space() const;

 private:
  std::optional<DiskSpace> Refresh() const;

  const std::string dir_;
  mutable std::atomic<int64_t> checked_at_us_{INT64_MIN};          // steady clock; INT64_MIN: never
  mutable std::atomic<int64_t> free_bytes_{-1}, total_bytes_{-1};  // -1: unknown
};

}  // namespace wanllmdb
