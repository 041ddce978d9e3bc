// The line matcher (src/store/log_query.*), differentially: MatchText over a whole chunk (one
// RE2/memmem pass over the text column) must mark exactly the lines that MatchMessage accepts
// one by one — the scan is only an optimisation of the per-line rule.
//
// Input: search and regex (FuzzedDataProvider strings: each ends at a backslash followed by any
// other byte, two backslashes are one), then the lines, separated by '\n' (repaired to valid
// UTF-8 as ingest stores them).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>

#include "core/chunk_codec.h"
#include "core/text.h"
#include "fuzz_check.h"
#include "store/log_query.h"

using namespace wanllmdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  LogFilter f;
  f.search = in.ConsumeRandomLengthString(64);
  f.regex = in.ConsumeRandomLengthString(64);
  std::string rest = SanitizeUtf8(in.ConsumeRemainingBytesAsString());

  auto compiled = LineMatcher::Compile(f);
  if (!compiled.ok()) return 0;  // a bad regex is the caller's 422
  const LineMatcher& m = **compiled;

  // The chunk as DecodeChunk leaves it: every message followed by '\n'.
  DecodedChunk c;
  std::vector<std::string_view> lines;
  SplitIntoLines(rest, kMaxLineBytes, &lines);
  c.buffer.reserve(rest.size() + 1);
  c.offsets.push_back(0);
  for (std::string_view l : lines) {
    c.buffer.append(l).push_back('\n');
    c.offsets.push_back(static_cast<uint32_t>(c.buffer.size()));
  }
  c.n = lines.size();
  c.text = c.buffer;
  c.timestamps.assign(c.n, 0);
  c.levels.assign(c.n, static_cast<uint8_t>(Level::kInfo));
  c.sources.assign(c.n, 0);
  c.writer_index.assign(c.n, 0);
  c.writers = {"main"};

  std::vector<uint8_t> hits;
  m.MatchText(c, &hits);
  FUZZ_CHECK(hits.size() == c.n);
  for (size_t i = 0; i < c.n; ++i) {
    if (static_cast<bool>(hits[i]) != m.MatchMessage(c.message(i))) {
      std::fprintf(stderr, "line %zu of %zu: MatchText %d, MatchMessage %d\n", i, c.n, hits[i],
                   !hits[i]);
      FUZZ_CHECK(!"MatchText and MatchMessage disagree");
    }
  }
  return 0;
}
