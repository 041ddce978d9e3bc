#include "core/problem_rules.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "core/ansi.h"

namespace wanllmdb {
namespace {

// The rule table. First match wins, so the more specific rule comes first (a watchdog timeout
// before a generic NCCL error). Patterns are tested on the visible text of a line the
// pre-filter passed: every pattern must contain one of kAnchors literally (the unit test checks
// each example passes the pre-filter).
const std::vector<BuiltinRule> kRules = {
    {"cuda_oom", "cuda_oom", Level::kError,
     R"re(CUDA out of memory|CUDA error: out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_NOT_ENOUGH_MEMORY|RESOURCE_EXHAUSTED: Out of memory|cudaErrorMemoryAllocation)re",
     "CUDA out of memory",
     "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
     "capacity of 79.15 GiB of which 1.23 GiB is free."},
    {"nccl_timeout", "nccl_timeout", Level::kError,
     R"re(Watchdog caught collective operation timeout|collective operation timeout|NCCL[^\n]{0,200}(?:[Tt]imed? ?out|timeout)|ProcessGroupNCCL[^\n]{0,200}(?:timed out|[Tt]imeout))re",
     "NCCL watchdog timeout",
     "[rank3]:[E1023 12:34:56.789012345 ProcessGroupNCCL.cpp:616] [Rank 3] Watchdog caught "
     "collective operation timeout: WorkNCCL(SeqNum=5, OpType=ALLREDUCE, NumelIn=1048576, "
     "NumelOut=1048576, Timeout(ms)=600000) ran for 600008 milliseconds before timing out."},
    {"nccl_error", "nccl_error", Level::kError,
     R"re(NCCL error|ncclSystemError|ncclInternalError|ncclUnhandledCudaError|ncclInvalidUsage|ncclInvalidArgument|ncclRemoteError|NCCL WARN|NCCL communicator [^\n]{0,80}abort)re",
     "NCCL error",
     "torch.distributed.DistBackendError: NCCL error in: "
     "../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1970, unhandled system error (run with "
     "NCCL_DEBUG=INFO for details), NCCL version 2.19.3"},
    {"killed", "killed", Level::kCritical,
     R"re(^\s*Killed\s*$|: line \d+: +\d+ Killed\b|^\s*\d+ Killed\b|Out of memory: Kill(?:ed)? process|oom[-_]kill|(?i:exit(?:ed)?(?: with)? (?:code|status)):? 137\b|exitcode\s*:\s*-9\b|Signal 9 \(SIGKILL\)|Signals\.SIGKILL|signal: killed)re",
     "Killed (SIGKILL: out of host memory?)",
     "/opt/job/run.sh: line 12: 48213 Killed                  python train.py"},
    {"segfault", "segfault", Level::kCritical,
     R"re(Segmentation fault|SIGSEGV|Bus error|SIGBUS|(?i:exit(?:ed)?(?: with)? (?:code|status)):? 139\b|exitcode\s*:\s*-11\b)re",
     "Segmentation fault", "Fatal Python error: Segmentation fault"},
    {"signal", "signal", Level::kCritical,
     R"re(Aborted \(core dumped\)|^\s*Aborted\s*$|SIGABRT|terminate called (?:after throwing an instance of [^\n]{0,120}|without an active exception)|Fatal Python error: [^\n]{0,120}|Floating point exception|SIGFPE|Illegal instruction|SIGILL|\*\*\* SIG[A-Z]+ received[^\n]{0,40}|exitcode\s*:\s*-(?:4|6|7|8)\b|core dumped)re",
     "", "terminate called after throwing an instance of 'c10::DistBackendError'"},
    {"assertion", "assertion", Level::kError,
     R"re(Assertion [`'][^\n]{0,400}[`'] failed|Assertion failed|device-side assert(?:ion)? triggered|^\s*AssertionError\b|Check failed: )re",
     "Assertion failed",
     "/pytorch/aten/src/ATen/native/cuda/Loss.cu:240: nll_loss_forward_reduce_cuda_kernel_2d: "
     "block: [0,0,0], thread: [5,0,0] Assertion `t >= 0 && t < n_classes` failed."},
    {"disk_full", "disk_full", Level::kError,
     R"re(No space left on device|\[Errno 28\]|ENOSPC|Disk quota exceeded|\[Errno 122\])re",
     "Disk full", "OSError: [Errno 28] No space left on device: '/ckpt/step_1000.pt'"},
    {"nan_loss", "nan_loss", Level::kWarning,
     R"re((?i)(?:loss[\w./-]{0,40}['"]?\s{0,3}[:=]\s{0,3}['"]?(?:tensor\()?[-+]?(?:nan|inf|infinity)\b|\bloss (?:is|became|was|went|=) [-+]?(?:nan|inf)\b|non-finite loss|nan loss))re",
     "NaN/Inf in a loss value",
     "{'loss': nan, 'grad_norm': nan, 'learning_rate': 4.9e-05, 'epoch': 0.4}"},
    {"syntax_error", "traceback", Level::kError,
     R"re(^(?:SyntaxError|IndentationError|TabError): )re", "", "SyntaxError: invalid syntax"},
};

// Literals every rule above needs at least one of (case as written). A line holding none of
// them cannot match any built-in rule, so it is rejected by AnchorFilter below without running
// a regex. "loss"-like anchors pass only when a NaN/Inf follows before any digit (training lines
// all carry "loss=0.1234").
constexpr std::string_view kAnchors[] = {
    "emory", "MEMORY", "ALLOC_FAILED", "RESOURCE_EXHAUSTED", "NCCL", "nccl", "Watchdog",
    "ollective", "Kill", "kill",
    // "exit code", "exited with", "exitcode": not "xit" alone, which "perplexity" holds (3% of
    // training lines ran every regex for it).
    "xit ", "xited", "xitcode", "XIT ", "XITED", "SIG", "Segmentation", "Bus error", "Aborted",
    "abort", "terminate called", "Fatal Python", "Floating point", "Illegal instruction",
    "core dumped", "Assert", "assert", "Check failed", "No space left", "Errno", "ENOSPC", "quota",
    "SyntaxError", "IndentationError", "TabError", "nan loss", "NaN loss", "NAN loss",
    "finite loss"};
constexpr std::string_view kLossAnchors[] = {"loss", "Loss", "LOSS"};

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// After a loss key: a "nan"/"inf" (any case) before the first digit, within 48 bytes.
bool NonFiniteFollows(std::string_view s, size_t at) {
  const size_t end = std::min(s.size(), at + 48);
  for (size_t i = at; i < end; ++i) {
    char c = Lower(s[i]);
    if (c >= '0' && c <= '9') return false;
    if (i + 3 <= s.size() && ((c == 'n' && Lower(s[i + 1]) == 'a' && Lower(s[i + 2]) == 'n') ||
                              (c == 'i' && Lower(s[i + 1]) == 'n' && Lower(s[i + 2]) == 'f')))
      return true;
  }
  return false;
}

// Whether `p` starts with `anchor` (a few bytes: inline, where memcmp's call was 4% of ingest
// CPU, most of it on the "loss" of every training line).
bool SameBytes(const char* p, std::string_view anchor) {
  for (size_t k = 0; k < anchor.size(); ++k) {
    if (p[k] != anchor[k]) return false;
  }
  return true;
}

// The pre-filter: a table of the anchors' byte pairs, so a line costs one table load per two
// bytes; only where the table hits are the anchors compared. Every anchor has at least 3
// bytes, so an occurrence starting at i holds a pair at an even position: its first pair (i
// even) or its second (i odd). A superset of what the rules match (the unit test checks every
// example and the corpus through it).
class AnchorFilter {
 public:
  AnchorFilter() {
    for (std::string_view a : kAnchors) Add(a, false);
    for (std::string_view a : kLossAnchors) Add(a, true);
  }
  bool MayMatch(std::string_view s) const {
    if (s.size() < 3) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (size_t j = 0; j + 1 < s.size(); j += 2) {
      const uint8_t b = bucket_[static_cast<unsigned>(p[j]) << 8 | p[j + 1]];
      if (b == 0) continue;
      for (const Candidate& c : buckets_[b]) {
        if (j < c.offset) continue;
        const size_t i = j - c.offset;
        if (i + c.anchor.size() > s.size() || !SameBytes(s.data() + i, c.anchor)) continue;
        if (!c.loss || NonFiniteFollows(s, i + c.anchor.size())) return true;
      }
    }
    return false;
  }

 private:
  struct Candidate {
    std::string_view anchor;
    size_t offset;  // of the pair in the anchor: 0 or 1
    bool loss;
  };
  void Add(std::string_view a, bool loss) {
    for (size_t off = 0; off < 2; ++off) {
      const unsigned key =
          static_cast<unsigned char>(a[off]) << 8 | static_cast<unsigned char>(a[off + 1]);
      if (bucket_[key] == 0) {
        bucket_[key] = static_cast<uint8_t>(buckets_.size());
        buckets_.emplace_back();
      }
      buckets_[bucket_[key]].push_back({a, off, loss});
    }
  }
  // The pairs: bucket_[pair] indexes buckets_ (0: none). 64 KiB, read in line order.
  uint8_t bucket_[65536] = {};
  std::vector<std::vector<Candidate>> buckets_{1};
};

const AnchorFilter& Anchors() {
  static const AnchorFilter kFilter;
  return kFilter;
}

constexpr std::string_view kTracebackStart = "Traceback (most recent call last):";
constexpr size_t kMaxTitle = 200, kMaxDetail = 1000;

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Cuts at a UTF-8 boundary at or below `max` bytes.
std::string Bounded(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "…";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "ValueError: x", "torch.cuda.OutOfMemoryError: CUDA out of memory", "KeyboardInterrupt": the
// type's length, or 0 when `s` is no exception line. The same shape level detection accepts.
size_t ExceptionTypeLength(std::string_view s) {
  size_t i = 0;
  while (true) {
    if (i >= s.size() || !(IsAlpha(s[i]) || s[i] == '_')) return 0;
    while (i < s.size() && (IsAlpha(s[i]) || IsDigit(s[i]) || s[i] == '_')) ++i;
    if (i < s.size() && s[i] == '.') {
      ++i;
      continue;
    }
    break;
  }
  if (i == s.size() || (s[i] == ':' && (i + 1 == s.size() || s[i + 1] == ' '))) return i;
  return 0;
}

bool IsIndented(std::string_view s) {
  return !s.empty() && (s[0] == ' ' || s[0] == '\t');
}

RE2::Options RuleOptions() {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(8 << 20);  // a hostile project rule fails to compile, never eats the server
  return o;
}

}  // namespace

bool IsProblemKind(std::string_view kind) {
  return std::find(std::begin(kProblemKinds), std::end(kProblemKinds), kind) !=
         std::end(kProblemKinds);
}

int ProblemKindRank(std::string_view kind) {
  auto it = std::find(std::begin(kProblemKinds), std::end(kProblemKinds), kind);
  return static_cast<int>(it - std::begin(kProblemKinds));
}

const std::vector<BuiltinRule>& BuiltinProblemRules() {
  return kRules;
}

Status ValidateProjectRule(const ProjectRule& rule) {
  if (rule.name.empty() || rule.name.size() > 64 ||
      !std::all_of(rule.name.begin(), rule.name.end(), [](char c) {
        return IsAlpha(c) || IsDigit(c) || c == '_' || c == '.' || c == '-';
      })) {
    return Status(Code::kInvalidValue, "rule name must be 1 to 64 of A-Z a-z 0-9 _ . -");
  }
  for (const auto& b : kRules) {
    if (b.name == rule.name)
      return Status(Code::kInvalidValue, "rule name '" + rule.name + "' is a built-in rule's");
  }
  if (rule.regex.empty() || rule.regex.size() > kMaxRuleRegexBytes)
    return Status(Code::kInvalidValue, "rule '" + rule.name + "': regex must be 1 to " +
                                           std::to_string(kMaxRuleRegexBytes) + " bytes");
  RE2 re(rule.regex, RuleOptions());
  if (!re.ok())
    return Status(Code::kInvalidValue, "rule '" + rule.name + "': invalid regex: " + re.error());
  return Status::Ok();
}

struct ProblemRuleSet::Compiled {
  // The built-in rules compile once per process and are shared by every project's set (RE2 is
  // safe to match from many threads): a project's rules change without recompiling them.
  std::shared_ptr<const std::vector<std::unique_ptr<RE2>>> builtin_rules;
  std::unique_ptr<RE2::Set> project_set;
};

ProblemRuleSet::~ProblemRuleSet() = default;

Status ProblemRuleSet::Compile(const ProblemRuleSet* builtin) {
  re_ = std::make_unique<Compiled>();
  auto& project_set_ = re_->project_set;
  std::shared_ptr<const std::vector<std::unique_ptr<RE2>>> builtin_rules;
  if (builtin) {
    builtin_rules = builtin->re_->builtin_rules;
  } else {
    auto compiled = std::make_shared<std::vector<std::unique_ptr<RE2>>>();
    for (const auto& r : kRules) {
      RE2::Options ro = RuleOptions();
      ro.set_never_capture(true);
      auto re = std::make_unique<RE2>(std::string("(?m)") + std::string(r.pattern), ro);
      if (!re->ok())
        return Status(Code::kInternal, "problem rule " + std::string(r.name) + ": " + re->error());
      compiled->push_back(std::move(re));
    }
    builtin_rules = std::move(compiled);
  }
  re_->builtin_rules = std::move(builtin_rules);
  if (!project_rules_.empty()) {
    RE2::Options so = RuleOptions();
    so.set_max_mem(16 << 20);
    project_set_ = std::make_unique<RE2::Set>(so, RE2::UNANCHORED);
    for (const auto& r : project_rules_) {
      std::string err;
      if (project_set_->Add(r.regex, &err) < 0)
        return Status(Code::kInvalidValue, "rule '" + r.name + "': invalid regex: " + err);
    }
    if (!project_set_->Compile())
      return Status(Code::kInvalidValue, "the project's rules together need too much memory");
  }
  return Status::Ok();
}

std::shared_ptr<const ProblemRuleSet> ProblemRuleSet::Builtin() {
  static const std::shared_ptr<const ProblemRuleSet> kBuiltin = [] {
    std::shared_ptr<ProblemRuleSet> s(new ProblemRuleSet());
    Status st = s->Compile(nullptr);
    (void)st;  // the built-in table compiles (the unit test checks it)
    return std::shared_ptr<const ProblemRuleSet>(std::move(s));
  }();
  return kBuiltin;
}

Result<std::shared_ptr<const ProblemRuleSet>> ProblemRuleSet::Build(
    std::vector<ProjectRule> project_rules) {
  if (project_rules.empty()) return Builtin();
  if (project_rules.size() > kMaxProjectRules)
    return Status(Code::kInvalidValue,
                  "a project has at most " + std::to_string(kMaxProjectRules) + " rules");
  for (const auto& r : project_rules) {
    Status st = ValidateProjectRule(r);
    if (!st.ok()) return st;
  }
  std::shared_ptr<ProblemRuleSet> s(new ProblemRuleSet());
  s->project_rules_ = std::move(project_rules);
  Status st = s->Compile(Builtin().get());
  if (!st.ok()) return st;
  return std::shared_ptr<const ProblemRuleSet>(std::move(s));
}

int ProblemRuleSet::MatchBuiltin(std::string_view visible, std::string_view* matched) const {
  const auto& builtin_ = *re_->builtin_rules;
  if (!Anchors().MayMatch(visible)) return -1;
  for (size_t i = 0; i < builtin_.size(); ++i) {
    re2::StringPiece m;
    if (builtin_[i]->Match(visible, 0, visible.size(), RE2::UNANCHORED, &m, 1)) {
      *matched = std::string_view(m.data(), m.size());
      return static_cast<int>(i);
    }
  }
  return -1;
}

int ProblemRuleSet::MatchProject(std::string_view visible) const {
  if (!re_->project_set) return -1;
  std::vector<int> which;
  if (!re_->project_set->Match(visible, &which) || which.empty()) return -1;
  return *std::min_element(which.begin(), which.end());
}

ProblemScanner::ProblemScanner(const ProblemRuleSet& rules, uint32_t open_traceback_mask,
                               const OpenTracebacks* carry)
    : rules_(rules) {
  for (int s = 0; s < kSourceCount; ++s) {
    tb_[s].open = (open_traceback_mask >> s) & 1;
    // The carry is only a hint of where the report began: the store's mask says whether one is
    // open at all.
    if (tb_[s].open && carry && (*carry)[s].open) {
      tb_[s].carried_start_line = (*carry)[s].start_line;
      tb_[s].frame = (*carry)[s].frame;
    }
  }
}

OpenTracebacks ProblemScanner::OpenAtEnd() const {
  OpenTracebacks out;
  for (int s = 0; s < kSourceCount; ++s) {
    const Traceback& tb = tb_[s];
    if (!tb.open) continue;
    out[s].open = true;
    out[s].carried = tb.carried_start_line > 0;
    out[s].start = tb.start;
    out[s].start_line = tb.carried_start_line;
    out[s].frame = Bounded(tb.frame, kMaxDetail);
  }
  return out;
}

void ProblemScanner::AddHit(ProblemHit hit) {
  for (auto& h : hits_) {
    if (h.signature == hit.signature) {
      h.occurrences += hit.occurrences;
      h.last_seen = std::max(h.last_seen, hit.last);
      return;
    }
  }
  if (hits_.size() >= kMaxHitsPerBatch) return;
  hit.last_seen = hit.last;
  hits_.push_back(std::move(hit));
}

void ProblemScanner::CloseTraceback(Traceback& tb, std::string_view exc, size_t index, int64_t ts) {
  tb.open = false;
  size_t type_len = ExceptionTypeLength(exc);
  std::string_view type = exc.substr(0, type_len);
  std::string_view matched;
  int rule = rules_.MatchBuiltin(exc, &matched);
  ProblemHit h;
  h.kind = "traceback";
  h.rule = "python_traceback";
  h.level = Level::kError;
  if (rule >= 0 && kRules[rule].kind != "traceback") {
    h.kind = std::string(kRules[rule].kind);  // a CUDA OOM, an NCCL error, an AssertionError…
    h.level = std::max(h.level, kRules[rule].level);
  }
  if (type == "AssertionError") h.kind = "assertion";
  h.title = Bounded(exc, kMaxTitle);
  h.signature = h.kind == "traceback" ? "traceback:" + std::string(type) : h.kind;
  h.first = tb.start;
  h.last = index;
  h.timestamp_us = ts;
  h.carried_first_line = tb.carried_start_line;
  tb.carried_start_line = 0;
  if (!tb.frame.empty()) h.detail = Bounded(tb.frame, kMaxDetail);
  // A chained report ("During handling of the above exception, another exception occurred")
  // is one event: the exception that ended it, caused by the earlier ones.
  if (tb.chain_pending && tb.last_hit >= 0 && static_cast<size_t>(tb.last_hit) < hits_.size()) {
    ProblemHit& prev = hits_[tb.last_hit];
    if (prev.occurrences == 1 && prev.last < h.first) {
      h.first = prev.first;
      h.timestamp_us = prev.timestamp_us;
      h.detail =
          Bounded((h.detail.empty() ? "" : h.detail + "\n") + "after: " + prev.title, kMaxDetail);
      if (ProblemKindRank(prev.kind) < ProblemKindRank(h.kind)) {
        h.kind = prev.kind;  // an OOM re-raised as a RuntimeError is still an OOM
        h.signature = prev.signature;
      }
      const int erased = tb.last_hit;
      hits_.erase(hits_.begin() + erased);
      for (Traceback& other : tb_) {  // indexes of the other streams' last reports move down
        if (other.last_hit == erased)
          other.last_hit = -1;
        else if (other.last_hit > erased)
          --other.last_hit;
      }
    }
  }
  tb.chain_pending = false;
  tb.frame.clear();
  AddHit(std::move(h));
  tb.last_hit = -1;
  for (size_t i = 0; i < hits_.size(); ++i)
    if (hits_[i].last == index) tb.last_hit = static_cast<int>(i);
}

void ProblemScanner::ScanRules(std::string_view visible, size_t index, int64_t ts) {
  std::string_view matched;
  int rule = rules_.MatchBuiltin(visible, &matched);
  if (rule >= 0) {
    const BuiltinRule& r = kRules[rule];
    ProblemHit h;
    h.kind = std::string(r.kind);
    h.rule = std::string(r.name);
    h.level = r.level;
    if (r.kind == "traceback") {
      h.title = Bounded(Trim(visible), kMaxTitle);  // a SyntaxError without a traceback header
      h.signature = "traceback:" + std::string(visible.substr(0, ExceptionTypeLength(visible)));
    } else {
      h.title = r.title.empty() ? Bounded(Trim(matched), kMaxTitle) : std::string(r.title);
      h.signature = h.kind;
    }
    h.detail = Bounded(Trim(visible), kMaxDetail);
    h.first = h.last = index;
    h.timestamp_us = ts;
    AddHit(std::move(h));
  }
  int own = rules_.MatchProject(visible);
  if (own >= 0) {
    const ProjectRule& r = rules_.project_rules_[own];
    ProblemHit h;
    h.kind = "custom";
    h.rule = r.name;
    h.level = r.level;
    h.title = r.name;
    h.signature = "custom:" + r.name;
    h.detail = Bounded(Trim(visible), kMaxDetail);
    h.first = h.last = index;
    h.timestamp_us = ts;
    AddHit(std::move(h));
  }
}

void ProblemScanner::Scan(const LogLine& line, size_t index) {
  std::string buf;
  std::string_view visible = line.message;
  if (HasEscapes(visible)) {
    AppendVisibleText(visible, &buf);
    visible = buf;
  }
  Traceback& tb = tb_[static_cast<int>(line.source) % kSourceCount];
  if (tb.open) {
    // Frames are indented ("  File ...", source lines, "^^^^" carets); loguru writes "> File"
    // and blank lines between frames.
    if (visible.empty() || IsIndented(visible) || StartsWith(visible, "> File ")) {
      std::string_view t = Trim(visible);
      if (StartsWith(t, "File \"") || StartsWith(t, "> File \"")) tb.frame = std::string(t);
      return;
    }
    if (StartsWith(visible, kTracebackStart)) {
      tb.start = index;
      tb.carried_start_line = 0;
      return;
    }
    if (ExceptionTypeLength(visible) > 0) {
      CloseTraceback(tb, Trim(visible), index, line.timestamp_us);
      return;
    }
    tb.open = false;  // something else (another stream's output): the report was cut off
    tb.chain_pending = false;
    tb.carried_start_line = 0;
    tb.frame.clear();
  }
  std::string_view s = visible;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  if (StartsWith(s, "^C")) s.remove_prefix(2);  // a terminal's echo of the interrupt
  if (!s.empty() && (s[0] == 'T' || s[0] == 'D')) {
    if (StartsWith(s, kTracebackStart)) {
      tb.open = true;
      tb.start = index;
      tb.carried_start_line = 0;
      tb.frame.clear();
      return;
    }
    if (StartsWith(s, "During handling of the above exception") ||
        StartsWith(s, "The above exception was the direct cause")) {
      tb.chain_pending = tb.last_hit >= 0;
      return;
    }
  }
  if (s.empty()) return;  // blank lines between chained reports keep the chain
  if (tb.chain_pending) tb.chain_pending = false;
  ScanRules(visible, index, line.timestamp_us);
}

std::vector<ProblemHit> ProblemScanner::Finish() {
  std::sort(hits_.begin(), hits_.end(),
            [](const ProblemHit& a, const ProblemHit& b) { return a.first < b.first; });
  return std::move(hits_);
}

std::vector<ProblemHit> ScanProblems(const ProblemRuleSet& rules, const std::vector<LogLine>& lines,
                                     uint32_t traceback_mask, const OpenTracebacks* carry,
                                     OpenTracebacks* open_at_end) {
  ProblemScanner scanner(rules, traceback_mask, carry);
  for (size_t i = 0; i < lines.size(); ++i) scanner.Scan(lines[i], i);
  if (open_at_end) *open_at_end = scanner.OpenAtEnd();
  return scanner.Finish();
}

}  // namespace wanllmdb
