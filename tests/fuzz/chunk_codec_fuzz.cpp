// The chunk decoder (src/core/chunk_codec.*): a corrupt payload is a Status, never a crash or an
// out-of-range column; whatever decodes re-encodes to the same lines.
//
// Input: one byte, then the rest. 'r' = the rest is the payload as stored (a zstd frame);
// anything else = the rest is the decompressed layout, which the target compresses first, so
// that mutations reach the column parser instead of dying in zstd.
#include <zstd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/chunk_codec.h"
#include "fuzz_check.h"

using namespace wanllmdb;

namespace {

void CheckColumns(const DecodedChunk& c) {
  FUZZ_CHECK(c.timestamps.size() == c.n && c.levels.size() == c.n && c.sources.size() == c.n &&
             c.writer_index.size() == c.n && c.offsets.size() == c.n + 1);
  FUZZ_CHECK(c.offsets[0] == 0 && c.offsets[c.n] == c.text.size());
  for (size_t i = 0; i < c.n; ++i) {
    FUZZ_CHECK(c.offsets[i] < c.offsets[i + 1]);
    FUZZ_CHECK(c.text[c.offsets[i + 1] - 1] == '\n');
    FUZZ_CHECK(c.message(i).find('\n') == std::string_view::npos);
    FUZZ_CHECK(c.levels[i] < kLevelCount && c.sources[i] < kSourceCount);
    FUZZ_CHECK(c.writer_index[i] < c.writers.size());
    FUZZ_CHECK(c.level_name_index.empty() || c.level_name_index[i] <= c.level_names.size());
  }
  FUZZ_CHECK(c.fields.empty() || c.fields.size() == c.n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string payload;
  if (data[0] == 'r') {
    payload.assign(rest);
  } else {
    static ZSTD_CCtx* cctx = ZSTD_createCCtx();  // one context: creating one per input is slow
    payload.resize(ZSTD_compressBound(rest.size()));
    size_t n = ZSTD_compressCCtx(cctx, payload.data(), payload.size(), rest.data(), rest.size(), 1);
    FUZZ_CHECK(!ZSTD_isError(n));
    payload.resize(n);
  }
  DecodedChunk c;
  Status s = DecodeChunk(payload, &c);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == Code::kInternal);
    return 0;
  }
  CheckColumns(c);

  // Round trip: the decoded lines encode and decode to themselves.
  std::vector<LogLine> lines(c.n);
  for (size_t i = 0; i < c.n; ++i) lines[i] = c.line(i);
  auto again = EncodeChunk(lines.data(), lines.size(), 1);
  if (!again.ok()) {
    FUZZ_CHECK(c.n == 0);  // the only chunk the encoder refuses that a decoder accepts
    return 0;
  }
  DecodedChunk d;
  FUZZ_CHECK(DecodeChunk(*again, &d).ok());
  CheckColumns(d);
  FUZZ_CHECK(d.n == c.n);
  for (size_t i = 0; i < c.n; ++i) {
    FUZZ_CHECK(d.timestamps[i] == c.timestamps[i]);
    FUZZ_CHECK(d.levels[i] == c.levels[i] && d.sources[i] == c.sources[i]);
    FUZZ_CHECK(d.writers[d.writer_index[i]] == lines[i].writer);
    FUZZ_CHECK(d.message(i) == lines[i].message);
    FUZZ_CHECK(d.level_name(i) == lines[i].level_name);
    FUZZ_CHECK(d.line_fields(i) == lines[i].fields);
  }
  return 0;
}
