// IngestQuotas: the per-run and per-project ingest quotas (`server --quota-run-lines-per-s`,
// `--quota-run-bytes-per-s`, `--quota-project-lines-per-s`, `--quota-project-bytes-per-s`;
// doc/operations.md). A batch is admitted whole or refused whole before anything is stored:
// every quota that applies must have room (TokenBucket, burst = one second's worth), then all
// are charged; a refusal charges none and says when to come back (429 + Retry-After). Bytes are
// message bytes (what the run's `bytes` counter sums), lines are lines after splitting.
// A request that writes to several runs at once (OTLP, Loki push) is one admission: what it
// brings to each run, and to each project summed over its runs, must all fit, or nothing is
// charged and nothing stored.
// Quotas are per server process: with several nodes each node enforces its own.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <vector>

#include "core/status.h"
#include "server/token_bucket.h"
#include "store/log_store.h"

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

// What one request brings to one run: `lines` after splitting, `bytes` of message text.
struct QuotaCharge {
  std::string run_id;
  std::string project;  // "" when no project quota is set (or the run's project is unknown)
  int64_t lines = 0, bytes = 0;
};

// The charge of a parsed batch (its lines and their message bytes).
QuotaCharge ChargeOf(const IngestBatch& batch, std::string project);

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
  // Admits every charge of one request or none: charges of one run, and of the runs of one
  // project, are summed first. A refusal names the quota that wants the longest wait.
  Status AdmitAll(const std::vector<QuotaCharge>& charges, int64_t now_us, int* retry_after_s);

  // The project of a run, remembered (a run never changes project): saves a store read per
  // batch while project quotas are on.
  std::optional<std::string> ProjectOf(const std::string& run_id);
  void RememberProject(const std::string& run_id, const std::string& project);

 private:
  struct Buckets {
    std::optional<TokenBucket> lines, bytes;
  };
  // Never erases: references to other buckets stay valid while one request gathers its own.
  Buckets& BucketsFor(std::unordered_map<std::string, Buckets>& map, const std::string& key,
                      double lines_rate, double bytes_rate, int64_t now_us);
  // Drops full buckets when `adding` more keys would pass kMaxKeys (before any is gathered).
  void PruneFor(std::unordered_map<std::string, Buckets>& map, size_t adding, int64_t now_us);

  const QuotaLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Buckets> runs_;            // Guarded by mu_
  std::unordered_map<std::string, Buckets> projects_;        // Guarded by mu_
  std::unordered_map<std::string, std::string> project_of_;  // Guarded by mu_
};

}  // namespace wanllmdb
