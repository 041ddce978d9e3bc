#include "store/retention.h"

namespace wanllmdb {

std::string_view AgeActionName(AgeAction a) {
  switch (a) {
    case AgeAction::kDeleteLogs:
      return "delete_logs";
    case AgeAction::kDeleteRun:
      return "delete_run";
    case AgeAction::kInherit:
      break;
  }
  return "";
}

std::optional<AgeAction> ParseAgeAction(std::string_view s) {
  if (s == "delete_logs") return AgeAction::kDeleteLogs;
  if (s == "delete_run") return AgeAction::kDeleteRun;
  if (s.empty()) return AgeAction::kInherit;
  return std::nullopt;
}

RetentionPolicy ResolveRetention(const RetentionPolicy& project, const RetentionPolicy& defaults) {
  auto pick = [](int64_t own, int64_t dflt) {
    if (own != RetentionPolicy::kInherit) return own;
    return dflt == RetentionPolicy::kInherit ? RetentionPolicy::kNoLimit : dflt;
  };
  RetentionPolicy r;
  r.max_age_us = pick(project.max_age_us, defaults.max_age_us);
  r.max_lines_per_run = pick(project.max_lines_per_run, defaults.max_lines_per_run);
  r.max_bytes_per_run = pick(project.max_bytes_per_run, defaults.max_bytes_per_run);
  r.max_bytes_per_project = pick(project.max_bytes_per_project, defaults.max_bytes_per_project);
  r.age_action = project.age_action != AgeAction::kInherit    ? project.age_action
                 : defaults.age_action != AgeAction::kInherit ? defaults.age_action
                                                              : AgeAction::kDeleteLogs;
  r.updated_at_us = project.updated_at_us;
  return r;
}

bool RemovesAnything(const RetentionPolicy& p) {
  return p.max_age_us > 0 || p.max_lines_per_run > 0 || p.max_bytes_per_run > 0 ||
         p.max_bytes_per_project > 0;
}

void SubtractRemoved(const RunCounters& removed, RunCounters* run) {
  auto sub = [](int64_t& v, int64_t d) { v = v > d ? v - d : 0; };
  sub(run->total, removed.total);
  sub(run->bytes, removed.bytes);
  for (int i = 0; i < kLevelCount; ++i) sub(run->level_counts[i], removed.level_counts[i]);
  for (int i = 0; i < kSourceCount; ++i) sub(run->source_counts[i], removed.source_counts[i]);
}

}  // namespace wanllmdb
