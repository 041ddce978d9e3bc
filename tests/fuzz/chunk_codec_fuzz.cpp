// The chunk decoder (src/core/chunk_codec.*): a corrupt payload is a Status, never a crash or an
// out-of-range column; whatever decodes re-encodes to the same lines.
//
// Input: one byte, then the rest. 'r' = the rest is the payload as stored (a zstd frame, or a
// layout-3 block table and its frames); '3' = the rest is a layout-3 payload whose frames are
// given decompressed (each frame_len is its decompressed length), which the target compresses
// frame by frame; anything else = the rest is the decompressed layout 1/2, which the target
// compresses first, so that mutations reach the column parsers instead of dying in zstd.
// Every decoded chunk is also decoded again skipping some blocks (as a search does): the blocks
// kept read the same, the others as empty lines.
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

ZSTD_CCtx* Cctx() {
  static ZSTD_CCtx* cctx = ZSTD_createCCtx();  // one context: creating one per input is slow
  return cctx;
}

std::string Compress(std::string_view raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t n = ZSTD_compressCCtx(Cctx(), out.data(), out.size(), raw.data(), raw.size(), 1);
  FUZZ_CHECK(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

struct Cursor {
  std::string_view s;
  size_t pos = 0;
  bool Varint(uint64_t* v, std::string* copy) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= s.size()) return false;
      auto b = static_cast<uint8_t>(s[pos++]);
      if (copy) copy->push_back(static_cast<char>(b));
      r |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool Copy(size_t n, std::string* out) {
    if (s.size() - pos < n) return false;
    out->append(s.substr(pos, n));
    pos += n;
    return true;
  }
};

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Mode '3': the layout-3 grammar (doc/chunk_format.md) with decompressed frames. False when the
// input does not follow it far enough to find the frames (then it is decoded as it is).
bool CompressBlocks(std::string_view in, std::string* out) {
  Cursor c{in};
  uint64_t n, nw, nb, len;
  if (!c.Copy(2, out) || !c.Varint(&n, out) || !c.Varint(&nw, out) || nw > 300) return false;
  for (uint64_t i = 0; i < nw; ++i) {
    if (!c.Varint(&len, out) || !c.Copy(len, out)) return false;
  }
  if (!c.Varint(&nb, out) || nb > 2000) return false;
  const bool filters = static_cast<uint8_t>(in[1]) & 1;
  std::vector<uint64_t> raw_lens;
  std::string table;
  for (uint64_t b = 0; b < nb; ++b) {
    uint64_t lines, raw_len;
    if (!c.Varint(&lines, &table) || !c.Varint(&raw_len, nullptr)) return false;
    raw_lens.push_back(raw_len);
    table += '\xff';  // where the compressed length goes
    if (filters && (!c.Varint(&len, &table) || !c.Copy(len, &table))) return false;
  }
  std::vector<std::string> frames;
  for (uint64_t raw_len : raw_lens) {
    std::string raw;
    if (!c.Copy(raw_len, &raw)) return false;
    frames.push_back(Compress(raw));
  }
  // The table again, with each frame's compressed length.
  Cursor t{table};
  for (uint64_t b = 0; b < nb; ++b) {
    uint64_t lines;
    (void)t.Varint(&lines, out);
    ++t.pos;
    PutVarint(out, frames[b].size());
    if (filters) {
      (void)t.Varint(&len, out);
      (void)t.Copy(len, out);
    }
  }
  for (const auto& f : frames) out->append(f);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string payload;
  if (data[0] == 'r') {
    payload.assign(rest);
  } else if (data[0] == '3') {
    if (!CompressBlocks(rest, &payload)) payload.assign(rest);
  } else {
    payload = Compress(rest);
  }
  DecodedChunk c;
  Status s = DecodeChunk(payload, &c);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == Code::kInternal);
    return 0;
  }
  CheckColumns(c);

  // Skipping blocks (every other one) changes nothing about the blocks kept.
  DecodedChunk part;
  size_t block = 0;
  std::vector<bool> kept;
  FUZZ_CHECK(DecodeChunk(payload, &part, [&](std::string_view) {
               kept.push_back(block++ % 2 == 1);
               return kept.back();
             }).ok());
  CheckColumns(part);
  FUZZ_CHECK(part.n == c.n);
  if (!kept.empty()) {
    // A line that reads differently was left out: empty, the rest of its columns placeholders.
    for (size_t i = 0; i < c.n; ++i) {
      if (part.message(i) != c.message(i)) FUZZ_CHECK(part.message(i).empty());
      if (!part.message(i).empty()) {
        FUZZ_CHECK(part.timestamps[i] == c.timestamps[i] && part.levels[i] == c.levels[i]);
        FUZZ_CHECK(part.writers[part.writer_index[i]] == c.writers[c.writer_index[i]]);
        FUZZ_CHECK(part.level_name(i) == c.level_name(i));
        FUZZ_CHECK(part.line_fields(i) == c.line_fields(i));
      }
    }
  }

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
