// The ingest body parser (POST /runs/{id}/logs/batch, /logs, /logs/progress): any body either
// fails with a 4xx status or yields lines the store can take as they are.
//
// Input: one byte choosing the endpoint ('s' = /logs, 'p' = /logs/progress, anything else =
// /logs/batch), then the body.
#include <cstdint>
#include <string>

#include "core/text.h"
#include "fuzz_check.h"
#include "server/ingest.h"

using namespace wanllmdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static IngestParser* parser = new IngestParser();  // kept: the level detectors carry state
  const char mode = static_cast<char>(data[0]);
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  Result<IngestBatch> r = mode == 's'   ? parser->ParseSingle("run", body)
                          : mode == 'p' ? parser->ParseSingle("run", body, Source::kStdout)
                                        : parser->ParseBatch("run", body);
  if (!r.ok()) {
    Code c = r.status().code();
    FUZZ_CHECK(c == Code::kBadRequest || c == Code::kMalformedJson || c == Code::kInvalidValue ||
               c == Code::kTooLarge);
    FUZZ_CHECK(!r.status().message().empty());
    return 0;
  }
  const IngestBatch& b = *r;
  FUZZ_CHECK(b.run_id == "run");
  FUZZ_CHECK(!b.writer.empty() && b.writer.size() <= 128);
  if (mode == 's' || mode == 'p') FUZZ_CHECK(!b.lines.empty());  // the handlers use lines[0]
  FUZZ_CHECK(b.lines.size() <= kMaxBatchLines);
  FUZZ_CHECK(b.seqs.empty() || b.seqs.size() == b.lines.size());
  for (const LogLine& l : b.lines) {
    FUZZ_CHECK(l.message.size() <= kMaxLineBytes);
    FUZZ_CHECK(l.message.find('\n') == std::string::npos);
    FUZZ_CHECK(IsValidUtf8(l.message));
    FUZZ_CHECK(static_cast<int>(l.level) < kLevelCount);
    FUZZ_CHECK(static_cast<int>(l.source) < kSourceCount);
  }
  for (int64_t s : b.seqs) FUZZ_CHECK(s >= -1);
  return 0;
}
