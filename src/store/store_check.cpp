#include "store/store_check.h"

#include <algorithm>
#include <map>

#include "core/chunk_codec.h"
#include "core/text_filter.h"
#include "store/chunk_writer.h"
#include "store/store_audit.h"

namespace wanllmdb {
namespace {

std::string Range(int64_t a, int64_t b) {
  return std::to_string(a) + "-" + std::to_string(b);
}

std::string Counts(const int64_t* v, int n) {
  return JoinCounts(v, n);
}

std::string OptTs(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : std::string("none");
}

// Checks one run as its chunks arrive; then builds its repair. Not thread-safe.
class RunChecker {
 public:
  RunChecker(const AuditRun& run, CheckReport& report, const CheckSink& sink)
      : run_(run), report_(report), sink_(sink) {
    for (const AuditWriter& w : run.writers) writer_ids_[w.writer] = w.id;
  }

  Status OnChunk(const AuditChunk& c) {
    ++report_.chunks;
    const std::string name = "chunk " + Range(c.first_line, c.last_line);
    const int64_t key_lines = c.last_line - c.first_line + 1;
    // Ranges: in key order, each must start right after the furthest line seen so far.
    if (key_lines < 1) {
      Problem(name + ": its last line is before its first", false);
      ranges_ok_ = false;
    } else if (max_last_ > 0 && c.first_line <= max_last_) {
      Problem("lines " + Range(c.first_line, std::min(c.last_line, max_last_)) +
                  " are in two chunks (" + prev_ + " and " + Range(c.first_line, c.last_line) + ")",
              false);
      ranges_ok_ = false;
    } else if (max_last_ > 0 && c.first_line > max_last_ + 1) {
      Problem("lines " + Range(max_last_ + 1, c.first_line - 1) + " are missing (between chunks " +
                  prev_ + " and " + Range(c.first_line, c.last_line) + ")",
              false);
    }
    if (first_chunk_line_ == 0) {
      first_chunk_line_ = c.first_line;
      // Retention removed lines up to removed.to_line: the first chunk starts after them (the
      // run's first_line, not line 1). A chunk holding such a line contradicts the summary.
      if (run_.removed.to_line > 0 && c.first_line <= run_.removed.to_line)
        Problem(name + " holds lines that retention removed (up to " +
                    std::to_string(run_.removed.to_line) + ")",
                false);
    }
    max_last_ = std::max(max_last_, c.last_line);
    prev_ = Range(c.first_line, c.last_line);

    if (c.codec != kCodecZstdColumnsV1) {
      Problem(name + ": codec " + std::to_string(c.codec) + " is unknown", false);
      decoded_all_ = false;
      return Status::Ok();
    }
    DecodedChunk d;
    if (Status s = DecodeChunk(c.payload, &d); !s.ok()) {
      Problem(name + ": payload does not decode (" + s.message() + ")", false);
      decoded_all_ = false;
      return Status::Ok();
    }
    std::vector<LogLine> lines(d.n);
    for (size_t i = 0; i < d.n; ++i) lines[i] = d.line(i);
    report_.lines += static_cast<int64_t>(d.n);
    const bool range_matches = static_cast<int64_t>(d.n) == key_lines;
    if (!range_matches) {
      Problem(name + ": holds " + std::to_string(d.n) + " lines, its key range " +
                  std::to_string(key_lines),
              false);
      ranges_ok_ = false;
    }
    Accumulate(lines);
    if (d.n > 0) CheckMeta(c, name, lines, range_matches);
    return Status::Ok();
  }

  // After the last chunk.
  void Finish() {
    const RunCounters& s = run_.counters;
    counters_repairable_ = decoded_all_ && ranges_ok_;
    if (max_last_ > 0 && max_last_ > s.next_line - 1) {
      Problem("the next line number is " + std::to_string(s.next_line) +
                  " but chunks hold lines up to " + std::to_string(max_last_) +
                  " (new lines would reuse numbers)",
              counters_repairable_);
      expected_.next_line = max_last_ + 1;
    } else if (max_last_ > 0 && max_last_ < s.next_line - 1) {
      Problem("lines " + Range(max_last_ + 1, s.next_line - 1) +
                  " are missing (after the last chunk, " + prev_ + ")",
              false);
    }
    // Sums over some of the chunks say nothing about the counters: the chunk that does not
    // decode is the problem to report, not every counter it throws off.
    if (!decoded_all_) return;
    RunCounters& e = expected_;
    e.first_line = first_chunk_line_;
    auto counter = [&](const char* what, const std::string& stored, const std::string& chunks) {
      if (stored == chunks) return;
      Problem(std::string("counter ") + what + " is " + stored + ", the chunks give " + chunks,
              counters_repairable_);
      counters_wrong_ = true;
    };
    counter("total", std::to_string(s.total), std::to_string(e.total));
    counter("bytes", std::to_string(s.bytes), std::to_string(e.bytes));
    counter("level_counts", Counts(s.level_counts.data(), kLevelCount),
            Counts(e.level_counts.data(), kLevelCount));
    counter("source_counts", Counts(s.source_counts.data(), kSourceCount),
            Counts(e.source_counts.data(), kSourceCount));
    counter("first_ts", OptTs(s.first_ts), OptTs(e.first_ts));
    counter("last_ts", OptTs(s.last_ts), OptTs(e.last_ts));
    // An empty run (never written, or cleared) keeps first_line 0.
    counter("first_line", std::to_string(s.total ? s.first_line : 0), std::to_string(e.first_line));
    if (e.next_line != s.next_line) counters_wrong_ = true;  // reported above
    for (const AuditWriter& w : run_.writers) {
      auto it = writer_lines_.find(w.writer);
      int64_t in_chunks = it == writer_lines_.end() ? 0 : it->second;
      if (w.lines == in_chunks) continue;
      Problem("writer '" + w.writer + "': line count is " + std::to_string(w.lines) +
                  ", the chunks hold " + std::to_string(in_chunks),
              counters_repairable_);
      AuditWriter fixed = w;
      fixed.lines = in_chunks;
      writer_fixes_.push_back(fixed);
    }
    int64_t next_id = 0;
    for (const AuditWriter& w : run_.writers) next_id = std::max(next_id, w.id + 1);
    for (const auto& [writer, n] : writer_lines_) {
      if (writer_ids_.count(writer)) continue;
      Problem(
          "writer '" + writer + "' has " + std::to_string(n) + " lines in chunks but no writer row",
          counters_repairable_);
      writer_fixes_.push_back({writer, next_id++, -1, n});
    }
  }

  // What --repair writes; nothing to write when `fixed` is 0.
  RunRepair Repair(int64_t* fixed) const {
    RunRepair r;
    r.run_id = run_.id;
    r.seen_next_line = run_.counters.next_line;
    r.seen_total = run_.counters.total;
    r.chunks = chunk_fixes_;
    *fixed = chunk_fix_problems_;
    if (counters_repairable_) {
      if (counters_wrong_) r.counters = expected_;
      r.writers = writer_fixes_;
      *fixed = repairable_;
    }
    return r;
  }

 private:
  void Problem(std::string what, bool repairable) {
    CheckProblem p{run_.id, std::move(what), repairable};
    ++report_.problems;
    if (repairable) {
      ++report_.repairable;
      ++repairable_;
    }
    if (sink_.problem) sink_.problem(p);
  }

  void Accumulate(const std::vector<LogLine>& lines) {
    RunCounters& e = expected_;
    for (const LogLine& l : lines) {
      CountLine(l, &e);
      ++writer_lines_[l.writer];
    }
  }

  void CheckMeta(const AuditChunk& c, const std::string& name, const std::vector<LogLine>& lines,
                 bool repairable) {
    const ChunkMeta m = MetaOf(lines.data(), lines.size());
    AuditChunk want = c;
    want.payload.clear();
    want.n_lines = static_cast<int64_t>(lines.size());
    want.ts_min = m.ts_min;
    want.ts_max = m.ts_max;
    want.raw_bytes = m.raw_bytes;
    want.level_mask = m.level_mask;
    want.source_mask = m.source_mask;
    want.level_counts = m.level_counts;
    // The writer mask has a bit per writer id (the 64th stands for all beyond); a writer
    // without a row has no id, so the mask is left as it is then.
    uint64_t mask = 0;
    bool ids_known = true;
    for (const LogLine& l : lines) {
      auto it = writer_ids_.find(l.writer);
      if (it == writer_ids_.end()) {
        ids_known = false;
        break;
      }
      mask |= 1ULL << std::min<int64_t>(it->second, 63);
    }
    if (ids_known) want.writer_mask = mask;
    std::string diffs;
    auto diff = [&](const char* what, const std::string& stored, const std::string& actual) {
      if (stored == actual) return;
      diffs += std::string(diffs.empty() ? "" : ", ") + what + " " + stored +
               " (its lines: " + actual + ")";
    };
    diff("n_lines", std::to_string(c.n_lines), std::to_string(want.n_lines));
    diff("ts_min", std::to_string(c.ts_min), std::to_string(want.ts_min));
    diff("ts_max", std::to_string(c.ts_max), std::to_string(want.ts_max));
    diff("raw_bytes", std::to_string(c.raw_bytes), std::to_string(want.raw_bytes));
    diff("level_mask", std::to_string(c.level_mask), std::to_string(want.level_mask));
    diff("source_mask", std::to_string(c.source_mask), std::to_string(want.source_mask));
    diff("level_counts", Counts(c.level_counts.data(), kLevelCount),
         Counts(want.level_counts.data(), kLevelCount));
    diff("writer_mask", std::to_string(c.writer_mask), std::to_string(want.writer_mask));
    // Per-source counts (schema 7) are what retention takes off the run's totals; a chunk
    // written before has none, which is fine (it is decoded when removed).
    if (c.source_counts) {
      want.source_counts = m.source_counts;
      diff("source_counts", Counts(c.source_counts->data(), kSourceCount),
           Counts(m.source_counts.data(), kSourceCount));
    }
    int wrong = 0;
    if (!diffs.empty()) {
      Problem(name + " metadata: " + diffs, repairable);
      ++wrong;
    }
    // A filter that lacks a trigram of its lines makes searches skip lines that match. A chunk
    // stored without a filter is always scanned: that is fine, not a problem.
    if (!c.text_filter.empty()) {
      want.text_filter = BuildTextFilter(lines.data(), lines.size());
      if (want.text_filter != c.text_filter) {
        Problem(name + ": its text filter does not match its lines (searches may miss them)",
                repairable);
        ++wrong;
      }
    }
    if (wrong && repairable) {
      chunk_fixes_.push_back(std::move(want));
      chunk_fix_problems_ += wrong;
    }
  }

  const AuditRun& run_;
  CheckReport& report_;
  const CheckSink& sink_;
  std::map<std::string, int64_t> writer_ids_;

  RunCounters expected_{run_.counters.next_line, 0, 0, 0, {}, {}, std::nullopt, std::nullopt};
  std::map<std::string, int64_t> writer_lines_;
  int64_t first_chunk_line_ = 0, max_last_ = 0;
  std::string prev_;  // the previous chunk's range, for messages
  bool decoded_all_ = true, ranges_ok_ = true;
  bool counters_repairable_ = false, counters_wrong_ = false;
  int64_t repairable_ = 0, chunk_fix_problems_ = 0;
  std::vector<AuditWriter> writer_fixes_;
  std::vector<AuditChunk> chunk_fixes_;
};

}  // namespace

Result<CheckReport> CheckStore(LogStore& store, const CheckOptions& options,
                               const CheckSink& sink) {
  CheckReport report;
  std::vector<std::string> runs;
  if (!options.run_id.empty()) {
    runs.push_back(options.run_id);
  } else {
    auto ids = store.AuditRunIds();
    if (!ids.ok()) return ids.status();
    runs = std::move(ids->runs);
    for (const std::string& id : ids->orphans) {
      ++report.problems;
      if (sink.problem)
        sink.problem({id,
                      "no such run, but chunks or writer rows name it (left from a deletion; "
                      "nothing reads them)",
                      false});
    }
  }
  for (const std::string& id : runs) {
    AuditRun run;
    std::optional<RunChecker> checker;
    Status s = store.AuditRunRows(id, &run, [&](const AuditChunk& c) {
      if (!checker) checker.emplace(run, report, sink);
      return checker->OnChunk(c);
    });
    if (s.code() == Code::kNotFound && options.run_id.empty()) continue;  // deleted meanwhile
    if (!s.ok()) return s;
    if (!checker) checker.emplace(run, report, sink);  // a run without chunks
    ++report.runs;
    checker->Finish();
    if (!options.repair) continue;
    int64_t fixed = 0;
    RunRepair repair = checker->Repair(&fixed);
    if (fixed == 0) continue;
    if (Status r = store.RepairRun(repair); !r.ok()) {
      if (sink.repair_failed) sink.repair_failed(id, r);
      continue;
    }
    ++report.repaired_runs;
    report.repaired_problems += fixed;
    if (sink.repaired) sink.repaired(id, fixed);
  }
  return report;
}

}  // namespace wanllmdb
