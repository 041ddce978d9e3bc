#include "store/append_planner.h"

#include <algorithm>

#include "core/level_detector.h"
#include "core/time_util.h"

namespace wanllmdb {
namespace {

// Levels of the lines asking for detection, from `start`; returns the end state.
uint32_t DetectLevels(IngestBatch& b, uint32_t start) {
  if (b.detect_level.empty()) return start;
  LevelDetector det[kSourceCount];
  for (int s = 0; s < kSourceCount; ++s) det[s] = LevelDetector((start >> s) & 1);
  for (size_t i = 0; i < b.lines.size(); ++i) {
    if (!b.detect_level[i]) continue;
    LogLine& l = b.lines[i];
    l.level = det[static_cast<int>(l.source)].Detect(l.message, &l.level_name);
  }
  uint32_t end = 0;
  for (int s = 0; s < kSourceCount; ++s) end |= static_cast<uint32_t>(det[s].in_traceback()) << s;
  return end;
}

void DetectProblems(PreparedBatch& p) {
  p.problems.clear();
  p.open_at_end = {};
  if (p.batch.problem_rules && !p.batch.lines.empty())
    p.problems = ScanProblems(*p.batch.problem_rules, p.batch.lines, p.assumed_traceback, &p.carry,
                              &p.open_at_end);
}

}  // namespace

Result<PreparedBatch> PrepareBatch(IngestBatch batch, const TracebackHint& hint, int zstd_level) {
  for (auto& l : batch.lines) l.writer = batch.writer;
  PreparedBatch p;
  p.assumed_traceback = hint.mask;
  p.carry = hint.open;
  p.carry_writer_lines = hint.writer_lines;
  p.end_traceback = DetectLevels(batch, hint.mask);
  auto pieces = BuildChunks(batch.lines, zstd_level, {}, FilterBuild::kSkip);
  if (!pieces.ok()) return pieces.status();
  p.pieces = std::move(*pieces);
  p.batch = std::move(batch);
  DetectProblems(p);
  return p;
}

Status ApplyBatch(PreparedBatch& p, RunCounters& run, WriterState& w, int zstd_level,
                  IngestResult* result) {
  IngestBatch& batch = p.batch;
  // Deduplicate by seq: anything at or below the watermark was stored before.
  size_t dups = 0;
  int64_t max_seq = w.max_seq;
  std::vector<uint8_t> keep;
  if (!batch.seqs.empty()) {
    keep.assign(batch.lines.size(), 1);
    for (size_t i = 0; i < batch.lines.size(); ++i) {
      int64_t seq = batch.seqs[i];
      if (seq < 0) continue;
      // Continuation pieces of one long message share its seq: they follow its fate.
      if (i > 0 && seq == batch.seqs[i - 1]) {
        keep[i] = keep[i - 1];
        dups += !keep[i];
        continue;
      }
      if (seq <= max_seq) {
        keep[i] = 0;
        ++dups;
      } else {
        max_seq = seq;
      }
    }
  }
  if (dups) {
    std::vector<LogLine> kept;
    std::vector<uint8_t> detect;
    kept.reserve(batch.lines.size() - dups);
    for (size_t i = 0; i < batch.lines.size(); ++i) {
      if (!keep[i]) continue;
      kept.push_back(std::move(batch.lines[i]));
      if (!batch.detect_level.empty()) detect.push_back(batch.detect_level[i]);
    }
    batch.lines.swap(kept);
    batch.detect_level.swap(detect);
    batch.seqs.clear();  // consumed: keep/dups are final
  }
  bool any_detect = false;
  for (uint8_t d : batch.detect_level) any_detect |= d != 0;
  // The carried starts hold only if no batch of this writer was stored since they were taken.
  bool carried = false;
  for (const OpenTraceback& o : p.carry) carried |= o.open;
  const bool carry_stale =
      carried && (p.carry_writer_lines != w.lines || p.assumed_traceback != w.traceback_mask);
  if (carry_stale) p.carry = {};
  if (dups || (any_detect && p.assumed_traceback != w.traceback_mask)) {
    // The first detection started from the wrong state, or saw lines stored before: redo
    // both from the state the store holds.
    p.assumed_traceback = w.traceback_mask;
    p.end_traceback = DetectLevels(batch, w.traceback_mask);
    auto pieces = BuildChunks(batch.lines, zstd_level, {}, FilterBuild::kSkip);
    if (!pieces.ok()) return pieces.status();
    p.pieces = std::move(*pieces);
    DetectProblems(p);
  } else if (!any_detect) {
    p.end_traceback = w.traceback_mask;  // nothing detected: the streams' state is untouched
    if (carry_stale) DetectProblems(p);
  } else if (carry_stale) {
    DetectProblems(p);  // levels were right; the problems' ranges and frames were not
  }
  result->duplicates = static_cast<int64_t>(dups);
  result->accepted = static_cast<int64_t>(batch.lines.size());
  const int64_t first = run.next_line;
  const int64_t n = static_cast<int64_t>(batch.lines.size());
  for (int64_t i = 0; i < n; ++i) {
    LogLine& l = batch.lines[i];
    l.line_number = first + i;
    CountLine(l, &run);
  }
  if (n > 0) {
    if (run.first_line == 0) run.first_line = first;
    run.next_line += n;
    result->first_line = first;
    result->last_line = first + n - 1;
  }
  p.problem_rows.clear();
  const int64_t now = NowMicros();
  for (const ProblemHit& h : p.problems) {
    if (h.last >= batch.lines.size()) continue;
    ProblemRow row;
    row.run_id = batch.run_id;
    row.signature = h.signature;
    row.writer = batch.writer;
    row.kind = h.kind;
    row.rule = h.rule;
    row.title = h.title;
    row.detail = h.detail;
    row.level = h.level;
    row.first_line =
        h.carried_first_line > 0 ? h.carried_first_line : first + static_cast<int64_t>(h.first);
    row.last_line = first + static_cast<int64_t>(h.last);
    row.last_seen_line = first + static_cast<int64_t>(std::max(h.last_seen, h.last));
    row.occurrences = h.occurrences;
    row.first_ts_us = h.timestamp_us;
    row.detected_at_us = now;
    p.problem_rows.push_back(std::move(row));
  }
  // What stays open, with line numbers now that the lines have them.
  for (OpenTraceback& o : p.open_at_end) {
    if (o.open && !o.carried) o.start_line = first + static_cast<int64_t>(o.start);
  }
  w.max_seq = max_seq;
  w.lines += n;
  w.traceback_mask = p.end_traceback;
  return Status::Ok();
}

void CapProblemRows(PreparedBatch& p, const ProblemRowsBefore& before, IngestResult* result) {
  result->new_problem_kinds.clear();
  result->problems_dropped = 0;
  std::set<std::string> added;  // new signatures this batch stores
  std::vector<ProblemRow> kept;
  kept.reserve(p.problem_rows.size());
  for (ProblemRow& row : p.problem_rows) {
    if (!before.signatures.count(row.signature) && !added.count(row.signature)) {
      if (before.signature_count + static_cast<int64_t>(added.size()) >=
          kMaxProblemSignaturesPerRun) {
        result->problems_dropped += row.occurrences;
        continue;
      }
      added.insert(row.signature);
    }
    if (!before.kinds.count(row.kind) &&
        std::find(result->new_problem_kinds.begin(), result->new_problem_kinds.end(), row.kind) ==
            result->new_problem_kinds.end())
      result->new_problem_kinds.push_back(row.kind);
    kept.push_back(std::move(row));
  }
  p.problem_rows.swap(kept);
}

TracebackHint TracebackHints::Get(const std::string& run_id, const std::string& writer) {
  std::lock_guard lock(mu_);
  auto it = hints_.find(run_id + '\0' + writer);
  return it == hints_.end() ? TracebackHint{} : it->second;  // none: nothing open, no carry
}

void TracebackHints::Set(const std::string& run_id, const std::string& writer,
                         const PreparedBatch& applied, const WriterState& w) {
  std::lock_guard lock(mu_);
  std::string key = run_id + '\0' + writer;
  if (w.traceback_mask == 0) {
    hints_.erase(key);  // the common state needs no entry: the map holds only open tracebacks
    return;
  }
  if (hints_.size() > 100000) hints_.clear();  // bound; a lost hint costs one re-detection
  TracebackHint& h = hints_[key];
  h.mask = w.traceback_mask;
  h.writer_lines = w.lines;
  h.open = applied.open_at_end;
}

}  // namespace wanllmdb
