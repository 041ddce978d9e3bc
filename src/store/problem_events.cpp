#include "store/problem_events.h"

#include <algorithm>
#include <map>

#include "core/problem_rules.h"

namespace wanllmdb {

std::vector<ProblemEvent> FoldProblems(const std::vector<ProblemRow>& rows) {
  std::vector<ProblemEvent> out;
  std::map<std::pair<std::string, std::string>, size_t> index;
  std::vector<std::string> run_order;
  for (const ProblemRow& r : rows) {
    auto [it, inserted] = index.try_emplace({r.run_id, r.signature}, out.size());
    if (inserted) {
      if (run_order.empty() || run_order.back() != r.run_id) run_order.push_back(r.run_id);
      ProblemEvent e;
      e.run_id = r.run_id;
      e.signature = r.signature;
      e.first_line = INT64_MAX;
      e.level = r.level;
      out.push_back(std::move(e));
    }
    ProblemEvent& e = out[it->second];
    if (r.first_line < e.first_line) {
      // The earliest occurrence speaks for the event.
      e.kind = r.kind;
      e.rule = r.rule;
      e.title = r.title;
      e.detail = r.detail;
      e.first_line = r.first_line;
      e.last_line = r.last_line;
      e.first_ts_us = r.first_ts_us;
    }
    e.level = std::max(e.level, r.level);
    e.detected_at_us = e.writers.empty() ? r.detected_at_us : std::min(e.detected_at_us, r.detected_at_us);
    e.occurrences += r.occurrences;
    e.writers.push_back({r.writer, r.first_line, r.last_line, r.last_seen_line, r.occurrences});
  }
  for (auto& e : out) {
    std::sort(e.writers.begin(), e.writers.end(), [](const ProblemWriter& a, const ProblemWriter& b) {
      return a.first_line != b.first_line ? a.first_line < b.first_line : a.writer < b.writer;
    });
  }
  // Runs keep their order; a run's events go by first line.
  std::map<std::string, size_t> run_rank;
  for (size_t i = 0; i < run_order.size(); ++i) run_rank.try_emplace(run_order[i], i);
  std::stable_sort(out.begin(), out.end(), [&](const ProblemEvent& a, const ProblemEvent& b) {
    size_t ra = run_rank[a.run_id], rb = run_rank[b.run_id];
    if (ra != rb) return ra < rb;
    return a.first_line < b.first_line;
  });
  return out;
}

const ProblemEvent* TopProblem(const std::vector<ProblemEvent>& events) {
  const ProblemEvent* best = nullptr;
  for (const auto& e : events) {
    if (!best) {
      best = &e;
      continue;
    }
    int a = ProblemKindRank(e.kind), b = ProblemKindRank(best->kind);
    if (a < b || (a == b && e.first_line < best->first_line)) best = &e;
  }
  return best;
}

}  // namespace wanllmdb
