// Layout before compression (all integers LEB128 varints, signed ones zig-zag):
//   n, n_writers, { writer_len, writer_bytes } × n_writers,
//   first timestamp, { delta } × (n-1),
//   levels[n] (one byte each), sources[n], writer_index[n] (omitted when n_writers == 1),
//   text: every message followed by '\n'.
// Columns compress far better than rows: timestamps become tiny deltas, levels and sources long
// runs, and the text of similar lines sits together. The text goes last so that a search can
// find it without parsing anything else.
#include "core/chunk_codec.h"

#include <zstd.h>

#include <cstring>
#include <memory>

namespace wanllmdb {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Deltas are taken modulo 2^64: any two timestamps have a delta that round-trips, and a corrupt
// delta cannot overflow (signed overflow is undefined behaviour).
int64_t WrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= s_.size()) return false;
      auto b = static_cast<uint8_t>(s_[pos_++]);
      r |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (s_.size() - pos_ < n) return false;
    *out = s_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  std::string_view Rest() const { return s_.substr(pos_); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

Status Corrupt(const char* what) {
  return {Code::kInternal, std::string("corrupt chunk: ") + what};
}

}  // namespace

Result<std::string> EncodeChunk(const LogLine* lines, size_t count, int zstd_level) {
  if (count == 0) return Status(Code::kInvalidValue, "a chunk holds at least one line");
  std::string raw;
  size_t text_bytes = 0;
  for (size_t i = 0; i < count; ++i) text_bytes += lines[i].message.size() + 1;
  raw.reserve(text_bytes + count * 6 + 64);

  // Writer dictionary: chunks rarely hold more than a handful of writers, a linear scan wins.
  std::vector<std::string_view> writers;
  std::vector<uint8_t> writer_index(count);
  for (size_t i = 0; i < count; ++i) {
    size_t k = 0;
    while (k < writers.size() && writers[k] != lines[i].writer) ++k;
    if (k == writers.size()) {
      if (writers.size() == kMaxChunkWriters) {
        return Status(Code::kInvalidValue,
                      "a chunk holds at most " + std::to_string(kMaxChunkWriters) + " writers");
      }
      writers.push_back(lines[i].writer);
    }
    writer_index[i] = static_cast<uint8_t>(k);
  }
  PutVarint(&raw, count);
  PutVarint(&raw, writers.size());
  for (auto w : writers) {
    PutVarint(&raw, w.size());
    raw.append(w);
  }
  int64_t prev = 0;
  for (size_t i = 0; i < count; ++i) {
    PutVarint(&raw, ZigZag(WrappingSub(lines[i].timestamp_us, prev)));
    prev = lines[i].timestamp_us;
  }
  for (size_t i = 0; i < count; ++i) raw.push_back(static_cast<char>(lines[i].level));
  for (size_t i = 0; i < count; ++i) raw.push_back(static_cast<char>(lines[i].source));
  if (writers.size() > 1) raw.append(reinterpret_cast<const char*>(writer_index.data()), count);
  for (size_t i = 0; i < count; ++i) {
    raw.append(lines[i].message);
    raw.push_back('\n');
  }

  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx{ZSTD_createCCtx()};
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t n =
      ZSTD_compressCCtx(cctx.get(), out.data(), out.size(), raw.data(), raw.size(), zstd_level);
  if (ZSTD_isError(n)) return Status(Code::kInternal, std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Status DecodeChunk(std::string_view payload, DecodedChunk* out) {
  unsigned long long size = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 30))
    return Corrupt("bad frame header");
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx{ZSTD_createDCtx()};
  out->buffer.resize(size);
  size_t got =
      ZSTD_decompressDCtx(dctx.get(), out->buffer.data(), size, payload.data(), payload.size());
  if (ZSTD_isError(got) || got != size) return Corrupt("zstd");

  Reader r(out->buffer);
  uint64_t n, nw;
  if (!r.Varint(&n) || !r.Varint(&nw) || n > size || nw > kMaxChunkWriters)
    return Corrupt("header");
  out->n = n;
  out->writers.clear();
  for (uint64_t i = 0; i < nw; ++i) {
    uint64_t len;
    std::string_view w;
    if (!r.Varint(&len) || !r.Bytes(len, &w)) return Corrupt("writers");
    out->writers.emplace_back(w);
  }
  out->timestamps.resize(n);
  int64_t prev = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v;
    if (!r.Varint(&v)) return Corrupt("timestamps");
    prev = WrappingAdd(prev, UnZigZag(v));
    out->timestamps[i] = prev;
  }
  std::string_view col;
  if (!r.Bytes(n, &col)) return Corrupt("levels");
  out->levels.assign(col.begin(), col.end());
  if (!r.Bytes(n, &col)) return Corrupt("sources");
  out->sources.assign(col.begin(), col.end());
  if (nw > 1) {
    if (!r.Bytes(n, &col)) return Corrupt("writer index");
    out->writer_index.assign(col.begin(), col.end());
  } else {
    out->writer_index.assign(n, 0);
  }
  for (uint64_t i = 0; i < n; ++i) {
    if (out->levels[i] >= kLevelCount || out->sources[i] >= kSourceCount ||
        out->writer_index[i] >= nw)
      return Corrupt("column value");
  }
  out->text = r.Rest();
  out->offsets.resize(n + 1);
  out->offsets[0] = 0;
  const char* base = out->text.data();
  size_t pos = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const void* nl = std::memchr(base + pos, '\n', out->text.size() - pos);
    if (!nl) return Corrupt("text");
    pos = static_cast<const char*>(nl) - base + 1;
    out->offsets[i + 1] = static_cast<uint32_t>(pos);
  }
  // Bytes after the last line would be text that belongs to no line (and a match there to
  // line n, one past the end).
  if (pos != out->text.size()) return Corrupt("text after the last line");
  return Status::Ok();
}

}  // namespace wanllmdb
