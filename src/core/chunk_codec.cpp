// Layout before compression (all integers LEB128 varints, signed ones zig-zag):
//   [layout 2 only: 0x00, flags]
//   n, n_writers, { writer_len, writer_bytes } × n_writers,
//   first timestamp, { delta } × (n-1),
//   levels[n] (one byte each), sources[n], writer_index[n] (omitted when n_writers == 1),
//   [layout 2, flag 1: n_names, { name_len, name } × n_names, name_index[n]]
//   [layout 2, flag 2: { fields_len, fields_bytes } × n]
//   text: every message followed by '\n'.
// Layout 1 starts with n >= 1, so a leading zero byte marks layout 2 without a new codec number:
// every chunk ever written stays readable, and chunks of plain lines stay byte for byte what
// they were.
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

constexpr uint8_t kFlagLevelNames = 1;
constexpr uint8_t kFlagFields = 2;

Status Corrupt(const char* what) {
  return {Code::kInternal, std::string("corrupt chunk: ") + what};
}

}  // namespace

LogLine DecodedChunk::line(size_t i) const {
  LogLine l;
  l.timestamp_us = timestamps[i];
  l.level = static_cast<Level>(levels[i]);
  l.source = static_cast<Source>(sources[i]);
  l.writer = writers[writer_index[i]];
  l.message = message(i);
  l.level_name = level_name(i);
  l.fields = line_fields(i);
  return l;
}

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
  // Level names and fields: most chunks have neither and stay layout 1.
  std::vector<std::string_view> names;
  std::vector<uint8_t> name_index;
  bool any_fields = false;
  for (size_t i = 0; i < count; ++i) {
    any_fields |= !lines[i].fields.empty();
    if (lines[i].level_name.empty()) continue;
    if (name_index.empty()) name_index.assign(count, 0);
    size_t k = 0;
    while (k < names.size() && names[k] != lines[i].level_name) ++k;
    if (k == names.size()) {
      if (names.size() == kMaxChunkLevelNames) continue;
      names.push_back(lines[i].level_name);
    }
    name_index[i] = static_cast<uint8_t>(k + 1);
  }
  const uint8_t flags = (names.empty() ? 0 : kFlagLevelNames) | (any_fields ? kFlagFields : 0);
  if (flags != 0) {
    raw.push_back('\0');
    raw.push_back(static_cast<char>(flags));
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
  if (flags & kFlagLevelNames) {
    PutVarint(&raw, names.size());
    for (auto name : names) {
      PutVarint(&raw, name.size());
      raw.append(name);
    }
    raw.append(reinterpret_cast<const char*>(name_index.data()), count);
  }
  if (flags & kFlagFields) {
    for (size_t i = 0; i < count; ++i) {
      PutVarint(&raw, lines[i].fields.size());
      raw.append(lines[i].fields);
    }
  }
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
  uint8_t flags = 0;
  if (!out->buffer.empty() && out->buffer[0] == '\0') {
    std::string_view head;
    if (!r.Bytes(2, &head)) return Corrupt("layout");
    flags = static_cast<uint8_t>(head[1]);
    if (flags == 0 || (flags & ~(kFlagLevelNames | kFlagFields))) return Corrupt("layout flags");
  }
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
  out->level_names.clear();
  out->level_name_index.clear();
  out->fields.clear();
  if (flags & kFlagLevelNames) {
    uint64_t nn;
    if (!r.Varint(&nn) || nn == 0 || nn > kMaxChunkLevelNames) return Corrupt("level names");
    for (uint64_t i = 0; i < nn; ++i) {
      uint64_t len;
      std::string_view name;
      if (!r.Varint(&len) || len == 0 || !r.Bytes(len, &name)) return Corrupt("level names");
      out->level_names.push_back(name);
    }
    if (!r.Bytes(n, &col)) return Corrupt("level name index");
    out->level_name_index.assign(col.begin(), col.end());
    for (uint8_t k : out->level_name_index) {
      if (k > nn) return Corrupt("level name index");
    }
  }
  if (flags & kFlagFields) {
    out->fields.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t len;
      if (!r.Varint(&len) || !r.Bytes(len, &out->fields[i])) return Corrupt("fields");
    }
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
