// The problem scanner (src/core/problem_rules.*) on any output: it never crashes, stays within
// its bounds (at most kMaxHitsPerBatch events, line indexes inside the batch, in order), names
// only known kinds, and a project rule set built from fuzzed regexes is either refused
// (kInvalidValue) or scans like the built-ins.
//
// Input: one byte (bit 0: open traceback on stdout at the start; bit 1: also build a project
// rule from the next string), the rule's regex (a FuzzedDataProvider string), then the lines,
// separated by '\n'; a line starting with 'E' is stderr (repaired to valid UTF-8 as stored).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/log_line.h"
#include "core/problem_rules.h"
#include "core/text.h"
#include "fuzz_check.h"

using namespace wanllmdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint8_t flags = in.ConsumeIntegral<uint8_t>();
  std::string regex = in.ConsumeRandomLengthString(128);
  std::string rest = SanitizeUtf8(in.ConsumeRemainingBytesAsString());

  std::shared_ptr<const ProblemRuleSet> rules = ProblemRuleSet::Builtin();
  if (flags & 2) {
    auto built = ProblemRuleSet::Build({ProjectRule{"fuzz", regex, Level::kError}});
    if (!built.ok()) {
      FUZZ_CHECK(built.status().code() == Code::kInvalidValue);
    } else {
      rules = *built;
    }
  }
  std::vector<std::string_view> pieces;
  SplitIntoLines(rest, kMaxLineBytes, &pieces);
  ProblemScanner scanner(*rules, flags & 1);
  LogLine l;  // one line reused: a LogLine per piece was most of the allocations
  for (size_t i = 0; i < pieces.size(); ++i) {
    l.message.assign(pieces[i]);
    l.source = !l.message.empty() && l.message[0] == 'E' ? Source::kStderr : Source::kStdout;
    l.timestamp_us = static_cast<int64_t>(i);
    scanner.Scan(l, i);
  }
  std::vector<ProblemHit> hits = scanner.Finish();
  FUZZ_CHECK(hits.size() <= ProblemScanner::kMaxHitsPerBatch);
  for (const ProblemHit& h : hits) {
    FUZZ_CHECK(h.first <= h.last && h.last_seen <= h.last + pieces.size());
    FUZZ_CHECK(pieces.empty() || h.last < pieces.size());
    FUZZ_CHECK(h.occurrences >= 1);
    FUZZ_CHECK(std::find(std::begin(kProblemKinds), std::end(kProblemKinds), h.kind) !=
               std::end(kProblemKinds));
    FUZZ_CHECK(!h.signature.empty());
  }
  return 0;
}
