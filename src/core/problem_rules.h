// Problems found for you (doc/problems.md): the rule table and the scanner that applies it to a
// writer's batch at ingest.
//
// A problem is a run event with a line range: a Python traceback (one event per traceback, a
// chained "During handling of the above exception" report included), CUDA out of memory, NCCL
// errors and watchdog timeouts, NaN/Inf in a loss-like value, a killed process (SIGKILL, the
// OOM killer, exit 137), segfaults and other fatal signals, assertion failures, a full disk,
// and the matches of a project's own rules. `stalled` (no output for N minutes) is raised by the
// server's sweep, not here.
//
// Cost: ingest runs this on every line, so a line first meets one pre-filter (an RE2 DFA over a
// short list of literal anchors every built-in rule needs, e.g. "NCCL", "loss", "Killed"); only
// lines it passes are tested against the rules themselves. Traceback structure is followed with
// a few byte compares per line. A project's own rules (at most kMaxProjectRules) run as one
// RE2::Set over every line: linear in the line, memory-bounded, never backtracking.
//
// The rule table is BuiltinProblemRules(); tests/unit/core/problem_rules_test.cpp checks every
// rule's documented example and the corpus in tests/vectors/problems/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_line.h"
#include "core/status.h"

namespace wanllmdb {

// Kinds: a fixed vocabulary (the API filters by it). Order = how bad, worst first: a run's "top
// problem" is the worst kind it has.
inline constexpr std::string_view kProblemKinds[] = {
    "killed",       "segfault", "cuda_oom", "nccl_timeout", "nccl_error", "disk_full",
    "signal",       "assertion", "traceback", "nan_loss",   "stalled",    "custom",
};
bool IsProblemKind(std::string_view kind);
// Position of `kind` in kProblemKinds (unknown kinds last).
int ProblemKindRank(std::string_view kind);

// One problem found in one writer's batch. Lines are indexes into the batch.
struct ProblemHit {
  std::string kind;       // one of kProblemKinds
  std::string rule;       // the rule that matched: a built-in name or a project rule's name
  Level level = Level::kError;
  std::string title;      // one line: "ValueError: bad shape", "CUDA out of memory"
  std::string detail;     // innermost frame / the matching line / the chained cause (bounded)
  std::string signature;  // equal on every writer for "the same problem" (× N ranks)
  size_t first = 0, last = 0;  // the event's first and last line in the batch
  size_t last_seen = 0;        // the last line of its last occurrence in the batch
  int64_t occurrences = 1;     // how often the signature occurred in the batch
  int64_t timestamp_us = 0;    // of the first line
  // > 0: the event is a traceback that began in an earlier batch of the writer, at this line
  // number (`first` is then 0, the first line of this batch).
  int64_t carried_first_line = 0;
};

// A stream's traceback still open when a writer's batch ended. Carried into its next batch so
// the one event spans both batches: where the report began and its innermost frame so far.
struct OpenTraceback {
  bool open = false;
  bool carried = false;       // began before this batch: its start is `start_line`
  size_t start = 0;           // else: index in this batch of its "Traceback" line
  int64_t start_line = 0;     // line number, when known (0: not known)
  std::string frame;          // the innermost "File ..." line so far
};
using OpenTracebacks = std::array<OpenTraceback, kSourceCount>;

// A built-in rule (documented in doc/problems.md; the unit test checks each `example`).
struct BuiltinRule {
  std::string_view name, kind;
  Level level;
  std::string_view pattern;  // RE2 syntax, tested on a line's visible text
  std::string_view title;    // the event's title; empty: the matched text
  std::string_view example;  // a line the rule matches
};
const std::vector<BuiltinRule>& BuiltinProblemRules();

// A project's own rule: a name, an RE2 regex (tested on each line's visible text) and a level.
struct ProjectRule {
  std::string name, regex;
  Level level = Level::kError;
};
inline constexpr size_t kMaxProjectRules = 32;
inline constexpr size_t kMaxRuleRegexBytes = 512;
// kInvalidValue (the message says why) for a bad name (1-64 of [A-Za-z0-9_.-]), an empty or
// over-long regex, one RE2 refuses or one that needs more than the rules' memory budget.
[[nodiscard]] Status ValidateProjectRule(const ProjectRule& rule);

// The compiled rules: the built-ins plus one project's own. Immutable once built, so one set is
// shared by every ingest thread. Thread-safety: thread-safe (const).
class ProblemRuleSet {
 public:
  ~ProblemRuleSet();
  // The built-ins only (shared, built once).
  static std::shared_ptr<const ProblemRuleSet> Builtin();
  // The built-ins plus `project_rules` (each validated: kInvalidValue as ValidateProjectRule).
  static Result<std::shared_ptr<const ProblemRuleSet>> Build(std::vector<ProjectRule> project_rules);

  const std::vector<ProjectRule>& project_rules() const { return project_rules_; }

 private:
  friend class ProblemScanner;
  ProblemRuleSet() = default;
  // Compiles the project rules; the built-in rules are shared from `builtin` (the process-wide
  // Builtin() set) or, when it is null, compiled here.
  Status Compile(const ProblemRuleSet* builtin);
  // Index of the first built-in rule matching `visible`; -1 for none. The match in *matched.
  int MatchBuiltin(std::string_view visible, std::string_view* matched) const;
  // Index of the first project rule matching `visible`; -1 for none.
  int MatchProject(std::string_view visible) const;

  struct Compiled;  // the RE2 objects (kept out of this header)
  std::unique_ptr<Compiled> re_;
  std::vector<ProjectRule> project_rules_;
};

// Follows one writer's lines through one batch. Traceback state is per source; a traceback open
// when the previous batch ended (the store's run_writers.traceback mask, as level detection
// keeps it) continues from the first line of this one, with where it began and its frame when
// the previous batch's end state (`carry`) is known. At most kMaxHitsPerBatch distinct problems
// come out of a batch (the first ones). Thread-safety: not thread-safe; one per batch.
class ProblemScanner {
 public:
  static constexpr size_t kMaxHitsPerBatch = 64;
  ProblemScanner(const ProblemRuleSet& rules, uint32_t open_traceback_mask,
                 const OpenTracebacks* carry = nullptr);
  void Scan(const LogLine& line, size_t index);
  // The problems found, occurrences of one signature folded into its first hit, in line order.
  std::vector<ProblemHit> Finish();
  // Each stream's traceback left open by the lines scanned (call before Finish).
  OpenTracebacks OpenAtEnd() const;

 private:
  struct Traceback {
    bool open = false;
    bool chain_pending = false;  // "During handling of the above exception" since the last one
    size_t start = 0;
    int64_t carried_start_line = 0;  // > 0: began in an earlier batch, at this line number
    std::string frame;      // the innermost "File ..., line N, in f" seen so far
    int last_hit = -1;      // this source's last traceback event (for chaining), index in hits_
  };
  void AddHit(ProblemHit hit);
  void CloseTraceback(Traceback& tb, std::string_view exception_line, size_t index,
                      int64_t ts);
  void ScanRules(std::string_view visible, size_t index, int64_t ts);

  const ProblemRuleSet& rules_;
  Traceback tb_[kSourceCount];
  std::vector<ProblemHit> hits_;
};

// Scans a batch of one writer's lines (ProblemScanner over all of them); `open_at_end`, when
// given, receives the tracebacks the batch leaves open.
std::vector<ProblemHit> ScanProblems(const ProblemRuleSet& rules,
                                     const std::vector<LogLine>& lines, uint32_t traceback_mask,
                                     const OpenTracebacks* carry = nullptr,
                                     OpenTracebacks* open_at_end = nullptr);

}  // namespace wanllmdb
