#include "server/ingest_quota.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <vector>

namespace wanllmdb {
namespace {

// Bounds the maps: past this many keys, buckets that are full again (they remember nothing)
// are dropped.
constexpr size_t kMaxKeys = 100000;

std::string Amount(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v == std::floor(v) ? "%.0f" : "%.2f", v);
  return buf;
}

}  // namespace

QuotaCharge ChargeOf(const IngestBatch& batch, std::string project) {
  QuotaCharge c;
  c.run_id = batch.run_id;
  c.project = std::move(project);
  c.lines = static_cast<int64_t>(batch.lines.size());
  for (const LogLine& l : batch.lines) c.bytes += static_cast<int64_t>(l.message.size());
  return c;
}

IngestQuotas::Buckets& IngestQuotas::BucketsFor(std::unordered_map<std::string, Buckets>& map,
                                                const std::string& key, double lines_rate,
                                                double bytes_rate, int64_t now_us) {
  auto it = map.find(key);
  if (it != map.end()) return it->second;
  Buckets& b = map[key];
  if (lines_rate > 0) b.lines.emplace(lines_rate, lines_rate, now_us);
  if (bytes_rate > 0) b.bytes.emplace(bytes_rate, bytes_rate, now_us);
  return b;
}

void IngestQuotas::PruneFor(std::unordered_map<std::string, Buckets>& map, size_t adding,
                            int64_t now_us) {
  if (map.size() + adding <= kMaxKeys) return;
  for (auto it = map.begin(); it != map.end();) {
    Buckets& b = it->second;
    bool full = (!b.lines || b.lines->Full(now_us)) && (!b.bytes || b.bytes->Full(now_us));
    it = full ? map.erase(it) : std::next(it);
  }
}

Status IngestQuotas::Admit(const std::string& run_id, const std::string& project, int64_t lines,
                           int64_t bytes, int64_t now_us, int* retry_after_s) {
  return AdmitAll({QuotaCharge{run_id, project, lines, bytes}}, now_us, retry_after_s);
}

Status IngestQuotas::AdmitAll(const std::vector<QuotaCharge>& charges, int64_t now_us,
                              int* retry_after_s) {
  // What the request brings to each run and each project (std::map: a stable message order).
  struct Sum {
    int64_t lines = 0, bytes = 0;
  };
  std::map<std::string, Sum> by_run, by_project;
  int64_t total_lines = 0, total_bytes = 0;
  for (const QuotaCharge& c : charges) {
    Sum& r = by_run[c.run_id];
    r.lines += c.lines;
    r.bytes += c.bytes;
    if (!c.project.empty() && limits_.per_project()) {
      Sum& p = by_project[c.project];
      p.lines += c.lines;
      p.bytes += c.bytes;
    }
    total_lines += c.lines;
    total_bytes += c.bytes;
  }
  std::lock_guard lock(mu_);
  struct Check {
    TokenBucket* bucket;
    double cost, rate;
    const char* flag;
    std::string what;  // "run <id>" or "project <name>"
    const char* unit;
  };
  std::vector<Check> checks;
  PruneFor(runs_, by_run.size(), now_us);
  PruneFor(projects_, by_project.size(), now_us);
  for (const auto& [run_id, sum] : by_run) {
    Buckets& r =
        BucketsFor(runs_, run_id, limits_.run_lines_per_s, limits_.run_bytes_per_s, now_us);
    if (r.lines)
      checks.push_back({&*r.lines, static_cast<double>(sum.lines), limits_.run_lines_per_s,
                        "--quota-run-lines-per-s", "run " + run_id, "lines"});
    if (r.bytes)
      checks.push_back({&*r.bytes, static_cast<double>(sum.bytes), limits_.run_bytes_per_s,
                        "--quota-run-bytes-per-s", "run " + run_id, "bytes"});
  }
  for (const auto& [project, sum] : by_project) {
    Buckets& p = BucketsFor(projects_, project, limits_.project_lines_per_s,
                            limits_.project_bytes_per_s, now_us);
    if (p.lines)
      checks.push_back({&*p.lines, static_cast<double>(sum.lines), limits_.project_lines_per_s,
                        "--quota-project-lines-per-s", "project '" + project + "'", "lines"});
    if (p.bytes)
      checks.push_back({&*p.bytes, static_cast<double>(sum.bytes), limits_.project_bytes_per_s,
                        "--quota-project-bytes-per-s", "project '" + project + "'", "bytes"});
  }
  // The longest wait of the quotas that refuse decides; the message names that quota.
  int64_t wait_us = 0;
  const Check* refusing = nullptr;
  for (const Check& c : checks) {
    if (c.bucket->CanTake(c.cost, now_us)) continue;
    int64_t w = c.bucket->WaitUs(c.cost, now_us);
    if (!refusing || w > wait_us) {
      wait_us = w;
      refusing = &c;
    }
  }
  if (refusing) {
    *retry_after_s = static_cast<int>(std::max<int64_t>(1, (wait_us + 999999) / 1000000));
    return Status(Code::kTooManyRequests,
                  "ingest quota exceeded: " + refusing->what + " may store " +
                      Amount(refusing->rate) + " " + refusing->unit + "/s (" + refusing->flag +
                      "); this batch of " + std::to_string(total_lines) + " lines (" +
                      std::to_string(total_bytes) + " bytes) was not stored: send it again in " +
                      std::to_string(*retry_after_s) + " s (Retry-After)");
  }
  for (const Check& c : checks) c.bucket->Take(c.cost, now_us);
  return Status::Ok();
}

std::optional<std::string> IngestQuotas::ProjectOf(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto it = project_of_.find(run_id);
  if (it == project_of_.end()) return std::nullopt;
  return it->second;
}

void IngestQuotas::RememberProject(const std::string& run_id, const std::string& project) {
  std::lock_guard lock(mu_);
  if (project_of_.size() >= kMaxKeys) project_of_.clear();  // a miss costs one store read
  project_of_[run_id] = project;
}

}  // namespace wanllmdb
