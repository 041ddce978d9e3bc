// The --retention-* flags that set the server-wide default retention policy: `wanllmdb server`
// enforces them in its background sweep, `wanllmdb admin retention sweep` takes the same ones
// so a sweep run by hand removes what the server would (doc/operations.md).
#pragma once

#include <cstdint>
#include <string>

#include "cli/flags.h"
#include "core/status.h"
#include "store/retention.h"

namespace wanllmdb {

// What the flags hold as given. Thread-safety: a value type.
struct RetentionDefaultFlags {
  double max_age_days = 0;
  std::string max_age_action = "delete_logs";
  int64_t max_lines_per_run = 0;
  std::string max_bytes_per_run = "0", max_bytes_per_project = "0";
};

// Registers the five flags on `cmd`, writing into `*flags` (which must outlive parsing).
void AddRetentionDefaultFlags(flags::Command cmd, RetentionDefaultFlags* flags);

// The policy the flags describe (0 = no limit is kInherit: nothing set, keep everything);
// kInvalidValue naming the flag when a size does not parse.
Result<RetentionPolicy> RetentionDefaultsOf(const RetentionDefaultFlags& flags);

}  // namespace wanllmdb
