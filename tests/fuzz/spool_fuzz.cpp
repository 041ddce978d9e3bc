// The spool reader (src/capture/spool.*, the read side of `wanllmdb sync`): any segment bytes —
// torn, truncated, not JSON — yield lines in strictly increasing seq order above `acked`, each a
// minified JSON object carrying that seq.
//
// Input: one byte giving acked (byte - 2, so -2 .. 253), then segments separated by NUL bytes
// (NUL cannot appear in a JSON text, so segments never need it).
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <vector>

#include "capture/spool.h"
#include "fuzz_check.h"

using namespace wanllmdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int64_t acked = static_cast<int64_t>(data[0]) - 2;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<SpooledLine> lines;
  while (true) {
    size_t nul = rest.find('\0');
    ParseSegment(rest.substr(0, nul), acked, &lines);
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  SortBySeqUnique(&lines);

  static simdjson::dom::parser parser;  // kept: a parser allocates its buffers on first use
  for (size_t i = 0; i < lines.size(); ++i) {
    FUZZ_CHECK(lines[i].seq > acked);
    if (i) FUZZ_CHECK(lines[i].seq > lines[i - 1].seq);
    simdjson::dom::element doc;
    FUZZ_CHECK(!parser.parse(lines[i].json).get(doc));
    FUZZ_CHECK(doc.is_object());
    int64_t seq = -1;
    FUZZ_CHECK(!doc["seq"].get(seq) && seq == lines[i].seq);
    FUZZ_CHECK(simdjson::minify(doc) == lines[i].json);
  }
  return 0;
}
