#include "store/retention_planner.h"

#include <algorithm>
#include <bit>
#include <tuple>

namespace wanllmdb {

std::string_view RetentionReasonName(RetentionReason r) {
  switch (r) {
    case RetentionReason::kMaxAge:
      return "max_age";
    case RetentionReason::kMaxLinesPerRun:
      return "max_lines_per_run";
    case RetentionReason::kMaxBytesPerRun:
      return "max_bytes_per_run";
    case RetentionReason::kMaxBytesPerProject:
      return "max_bytes_per_project";
  }
  return "";
}

std::vector<RetentionTask> PlanRetention(const std::map<std::string, RetentionPolicy>& projects,
                                         const RetentionPolicy& defaults,
                                         const std::vector<RetentionRun>& runs, int64_t now_us) {
  std::vector<RetentionTask> age, rotate, cap;
  std::map<std::string, RetentionPolicy> resolved;
  auto policy_of = [&](const std::string& project) -> const RetentionPolicy& {
    auto it = resolved.find(project);
    if (it != resolved.end()) return it->second;
    auto own = projects.find(project);
    return resolved[project] =
               ResolveRetention(own == projects.end() ? RetentionPolicy{} : own->second, defaults);
  };
  // Message bytes each project keeps once the age and rotation tasks are done, and its
  // finished runs that keep some.
  struct Kept {
    const RetentionRun* run;
    int64_t bytes;
  };
  std::map<std::string, int64_t> project_bytes;
  std::map<std::string, std::vector<Kept>> finished;
  for (const RetentionRun& r : runs) {
    const RetentionPolicy& p = policy_of(r.project);
    const bool ended = r.state != RunState::kRunning && r.finished_at_us.has_value();
    if (p.max_age_us > 0 && ended && now_us - *r.finished_at_us > p.max_age_us) {
      const bool delete_run = p.age_action == AgeAction::kDeleteRun;
      if (r.total > 0 || delete_run) {
        RetentionTask t{r.id, r.project, RetentionReason::kMaxAge, true, delete_run};
        t.limit = p.max_age_us;
        age.push_back(std::move(t));
      }
      continue;  // keeps nothing
    }
    int64_t bytes = r.bytes;
    const int64_t over_lines = p.max_lines_per_run > 0 ? r.total - p.max_lines_per_run : 0;
    const int64_t over_bytes = p.max_bytes_per_run > 0 ? r.bytes - p.max_bytes_per_run : 0;
    if (over_lines > 0 || over_bytes > 0) {
      RetentionTask t;
      t.run_id = r.id;
      t.project = r.project;
      const bool by_lines = over_lines > 0;
      t.reason = by_lines ? RetentionReason::kMaxLinesPerRun : RetentionReason::kMaxBytesPerRun;
      t.limit = by_lines ? p.max_lines_per_run : p.max_bytes_per_run;
      t.lines = std::max<int64_t>(over_lines, 0);
      t.bytes = std::max<int64_t>(over_bytes, 0);
      rotate.push_back(std::move(t));
      // At least this much goes (whole chunks: maybe a little more).
      if (over_bytes > 0) bytes -= over_bytes;
      else if (r.total > 0) bytes -= r.bytes * over_lines / r.total;
    }
    project_bytes[r.project] += bytes;
    if (ended && bytes > 0) finished[r.project].push_back({&r, bytes});
  }
  for (auto& [project, kept] : finished) {
    const RetentionPolicy& p = policy_of(project);
    if (p.max_bytes_per_project <= 0) continue;
    int64_t excess = project_bytes[project] - p.max_bytes_per_project;
    if (excess <= 0) continue;
    std::sort(kept.begin(), kept.end(), [](const Kept& a, const Kept& b) {
      return std::tie(*a.run->finished_at_us, a.run->created_at_us, a.run->id) <
             std::tie(*b.run->finished_at_us, b.run->created_at_us, b.run->id);
    });
    for (const Kept& k : kept) {
      if (excess <= 0) break;
      RetentionTask t;
      t.run_id = k.run->id;
      t.project = project;
      t.reason = RetentionReason::kMaxBytesPerProject;
      t.limit = p.max_bytes_per_project;
      t.bytes = std::min(excess, k.bytes);
      excess -= t.bytes;
      cap.push_back(std::move(t));
    }
  }
  std::vector<RetentionTask> out = std::move(age);
  for (auto& t : rotate) out.push_back(std::move(t));
  for (auto& t : cap) out.push_back(std::move(t));
  return out;
}

Result<bool> PlanCut(const RetentionTask& task, const RetentionView& view, int64_t done_lines,
                     int64_t done_bytes, int max_chunks, const ChunkLines& decode,
                     RetentionCut* cut) {
  *cut = RetentionCut();
  cut->run_id = task.run_id;
  std::map<std::string, int64_t> writer_ids;
  for (const AuditWriter& w : view.writers) writer_ids[w.writer] = w.id;
  RunCounters& r = cut->removed;
  for (const RetentionChunk& c : view.chunks) {
    if (cut->chunks >= max_chunks) break;
    if (!task.all && done_lines >= task.lines && done_bytes >= task.bytes) break;
    const int64_t bytes = c.raw_bytes - c.n_lines;  // raw_bytes counts a '\n' per line
    const bool one_writer = std::popcount(c.writer_mask) == 1 && c.writer_mask < (1ULL << 63);
    if (c.source_counts && one_writer) {
      for (int i = 0; i < kLevelCount; ++i) r.level_counts[i] += c.level_counts[i];
      for (int i = 0; i < kSourceCount; ++i) r.source_counts[i] += (*c.source_counts)[i];
      cut->by_writer[std::countr_zero(c.writer_mask)] += c.n_lines;
    } else {
      // Written before per-source counts existed, or several writers: the lines say.
      auto lines = decode(c.first_line);
      if (!lines.ok()) return lines.status();
      if (static_cast<int64_t>(lines->size()) != c.n_lines)
        return Status(Code::kConflict, "chunk " + std::to_string(c.first_line) + " of run " +
                                           task.run_id + " changed while it was read");
      for (const LogLine& l : *lines) {
        r.level_counts[static_cast<int>(l.level)]++;
        r.source_counts[static_cast<int>(l.source)]++;
        auto it = writer_ids.find(l.writer);
        if (it != writer_ids.end()) cut->by_writer[it->second]++;
      }
    }
    r.total += c.n_lines;
    r.bytes += bytes;
    done_lines += c.n_lines;
    done_bytes += bytes;
    if (cut->chunks == 0) cut->first_line = c.first_line;
    cut->last_first_line = c.first_line;
    cut->last_line = c.last_line;
    ++cut->chunks;
  }
  return cut->chunks > 0;
}

}  // namespace wanllmdb
