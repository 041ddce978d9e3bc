// DiskGuard: free space on the file system of the data directory, and the --min-free-disk rule:
// below the limit ingest is refused with 507 (clients keep their spool and retry) and the
// readiness check fails, well before the disk is really full; reads go on, and ingest resumes by
// itself once space is freed. statvfs(2) is read at most once a second, so neither an ingest
// burst nor a scrape turns into a storm of system calls.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wanllmdb {

struct DiskSpace {
  int64_t free_bytes = 0;   // available to an unprivileged process (f_bavail)
  int64_t total_bytes = 0;  // size of the file system
};

// How much free space ingest keeps: a size, a share of the file system, or (the default) the
// smaller of 1 GiB and 5%, so a small disk is not refused from the start.
struct DiskLimit {
  enum class Kind { kAuto, kBytes, kPercent };
  Kind kind = Kind::kAuto;
  int64_t bytes = 0;   // kBytes; 0 turns the check off
  double percent = 0;  // kPercent, 0..100
  // The limit on a file system of `total_bytes`.
  int64_t MinFreeBytes(int64_t total_bytes) const;
};

// "auto"; "0" (off); a size with an optional binary suffix, K/M/G/T (KiB, MB and B are read the
// same: powers of 1024), e.g. "512M", "2G", "1.5G", "1048576"; or a percentage, "5%".
// kInvalidValue otherwise.
Result<DiskLimit> ParseDiskLimit(std::string_view text);

// "1.5 GiB", "512.0 MiB", "100 B": sizes in messages.
std::string FormatBytes(int64_t bytes);

// Thread-safety: thread-safe (the cached figures are atomics; two threads may both refresh).
class DiskGuard {
 public:
  // `dir`: a directory on the file system to watch; "" watches nothing (Space() is empty and
  // every check passes: a PostgreSQL store's disk is the database server's business).
  explicit DiskGuard(std::string dir, DiskLimit limit = {});

  // The figures at most a second old; nullopt when there is no directory or statvfs fails.
  std::optional<DiskSpace> Space() const;
  // The limit in bytes now; nullopt when nothing is watched.
  std::optional<int64_t> MinFreeBytes() const;
  // OK, or kInsufficientStorage saying how much is free and how much the limit wants.
  Status Check() const;

 private:
  std::optional<DiskSpace> Refresh() const;

  const std::string dir_;
  const DiskLimit limit_;
  mutable std::atomic<int64_t> checked_at_us_{INT64_MIN};          // steady clock; INT64_MIN: never
  mutable std::atomic<int64_t> free_bytes_{-1}, total_bytes_{-1};  // -1: unknown
};

}  // namespace wanllmdb
