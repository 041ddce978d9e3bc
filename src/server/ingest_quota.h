// IngestQuotas: the per-run and per-project ingest quotas (`server --quota-run-lines-per-s`,
// `--quota-run-bytes-per-s`, `--quota-project-lines-per-s`, `--quota-project-bytes-per-s`;
// doc/operations.md). A batch is admitted whole or refused whole before anything is stored:
// every quota that applies must have room (TokenBucket, burst = one second's worth), then all
// are charged; a refusal charges none and says when to come back (429 + Retry-After). Bytes are
// message bytes (what the run's `bytes` counter sums), lines are lines after splitting.
// Quotas are per server process: with several nodes each node enforces its own.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/status.h"
#include "server/token_bucket.h"

namespace wanllmdb {

struct QuotaLimits {
  double run_lines_per_s = 0, run_bytes_per_s = 0;  // 0: no quota
  double project_lines_per_s = 0, project_bytes_per_s = 0;
  bool any() const {
    return run_lines_per_s > 0 || run_bytes_per_s > 0 || project_lines_per_s > 0 ||
           project_bytes_per_s > 0;
  }
  bool per_project() const { return project_lines_per_s > 0 || project_bytes_per_s > 0; }
};

// Thread-safety: thread-safe (one mutex; each call is a few map lookups).
class IngestQuotas {
 public:
  explicit IngestQuotas(QuotaLimits limits) : limits_(limits) {}
  const QuotaLimits& limits() const { return limits_; }

  // Admits (and charges) a batch of `lines` lines and `bytes` message bytes for `run_id` in
  // `project` ("" when no project quota is set), or refuses it with kTooManyRequests naming
  // the quota, and *retry_after_s (>= 1) set; nothing is charged then.
  Status Admit(const std::string& run_id, const std::string& project, int64_t lines, int64_t bytes,
               int64_t now_us, int* retry_after_s);

  // The project of a run, remembered (a run never changes project): saves a store read per
  // batch while project quotas are on.
  std::optional<std::string> ProjectOf(const std::string& run_id);
  void RememberProject(const std::string& run_id, const std::string& project);

 private:
  struct Buckets {
    std::optional<TokenBucket> lines, bytes;
  };
  Buckets& BucketsFor(std::unordered_map<std::string, Buckets>& map, const std::string& key,
                      double lines_rate, double bytes_rate, int64_t now_us);
  void Prune(std::unordered_map<std::string, Buckets>& map, int64_t now_us);

  const QuotaLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Buckets> runs_;            // Guarded by mu_
  std::unordered_map<std::string, Buckets> projects_;        // Guarded by mu_
  std::unordered_map<std::string, std::string> project_of_;  // Guarded by mu_
};

}  // namespace wanllmdb
