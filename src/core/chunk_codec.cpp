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
// Layout 3 (more lines than one block holds) is not one zstd frame but a small uncompressed
// header and a table of blocks, each block a layout-1/2 payload of its own lines with its own
// text filter: a zstd frame always starts with its magic number (first byte 0x28), so the
// leading byte 0x03 tells it apart. A search then decompresses only the blocks whose filter
// may hold the needle: about one block per matching line instead of the whole chunk.
// Columns compress far better than rows: timestamps become tiny deltas, levels and sources long
// runs, and the text of similar lines sits together. The text goes last so that a search can
// find it without parsing anything else.
#include "core/chunk_codec.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/text_filter.h"

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
constexpr uint8_t kLayout3 = 0x03;
constexpr uint8_t kFlagBlockFilters = 1;  // layout 3: every block has a text filter

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

namespace {

// The writer table every layout shares: { writer_len, writer_bytes } for each writer (the count
// precedes it, with the line count).
void PutWriters(std::string* out, const std::vector<std::string_view>& writers) {
  for (auto w : writers) {
    PutVarint(out, w.size());
    out->append(w);
  }
}

bool ReadWriters(Reader& r, uint64_t count, std::vector<std::string>* writers) {
  writers->clear();
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t len;
    std::string_view w;
    if (!r.Varint(&len) || !r.Bytes(len, &w)) return false;
    writers->emplace_back(w);
  }
  return true;
}

}  // namespace

std::vector<size_t> ChunkBlockEnds(const LogLine* lines, size_t count) {
  std::vector<size_t> ends;
  size_t start = 0, bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    const size_t len = lines[i].message.size() + 1;
    if (i > start && (i - start == kChunkBlockLines || bytes + len > kChunkBlockBytes)) {
      ends.push_back(i);
      start = i;
      bytes = 0;
    }
    bytes += len;
  }
  ends.push_back(count);
  return ends;
}

namespace {

// The distinct writers of lines[0, count), in order of first appearance, and each line's index
// among them. kInvalidValue past kMaxChunkWriters.
Status CollectWriters(const LogLine* lines, size_t count, std::vector<std::string_view>* writers,
                      std::vector<uint8_t>* writer_index) {
  // Chunks rarely hold more than a handful of writers: a linear scan wins.
  writers->clear();
  writer_index->resize(count);
  for (size_t i = 0; i < count; ++i) {
    size_t k = 0;
    while (k < writers->size() && (*writers)[k] != lines[i].writer) ++k;
    if (k == writers->size()) {
      if (writers->size() == kMaxChunkWriters) {
        return Status(Code::kInvalidValue,
                      "a chunk holds at most " + std::to_string(kMaxChunkWriters) + " writers");
      }
      writers->push_back(lines[i].writer);
    }
    (*writer_index)[i] = static_cast<uint8_t>(k);
  }
  return Status::Ok();
}

// The uncompressed columns of a layout-1/2 payload of lines[0, count). `allowed_names`, when
// given, are the only level names kept (a layout-3 chunk caps its names chunk-wide, so its
// blocks together never hold more than kMaxChunkLevelNames); without, the first
// kMaxChunkLevelNames distinct names are.
Result<std::string> EncodeColumns(const LogLine* lines, size_t count,
                                  const std::vector<std::string_view>* allowed_names) {
  std::string raw;
  size_t text_bytes = 0;
  for (size_t i = 0; i < count; ++i) text_bytes += lines[i].message.size() + 1;
  raw.reserve(text_bytes + count * 6 + 64);
  std::vector<std::string_view> writers;
  std::vector<uint8_t> writer_index;
  if (Status s = CollectWriters(lines, count, &writers, &writer_index); !s.ok()) return s;
  // Level names and fields: most chunks have neither and stay layout 1.
  std::vector<std::string_view> names;
  std::vector<uint8_t> name_index;
  bool any_fields = false;
  for (size_t i = 0; i < count; ++i) {
    any_fields |= !lines[i].fields.empty();
    const std::string& name = lines[i].level_name;
    if (name.empty()) continue;
    if (allowed_names &&
        std::find(allowed_names->begin(), allowed_names->end(), name) == allowed_names->end())
      continue;
    if (name_index.empty()) name_index.assign(count, 0);
    size_t k = 0;
    while (k < names.size() && names[k] != name) ++k;
    if (k == names.size()) {
      if (names.size() == kMaxChunkLevelNames) continue;
      names.push_back(name);
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
  PutWriters(&raw, writers);
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
  return raw;
}

Result<std::string> Compress(const std::string& raw, int zstd_level) {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx{ZSTD_createCCtx()};
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t n =
      ZSTD_compressCCtx(cctx.get(), out.data(), out.size(), raw.data(), raw.size(), zstd_level);
  if (ZSTD_isError(n)) return Status(Code::kInternal, std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

// The content size a zstd frame declares, or 0 for a header that is not one we wrote.
size_t FrameContentSize(std::string_view frame) {
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 30))
    return 0;
  return static_cast<size_t>(size);
}

Status Decompress(std::string_view frame, std::string* out) {
  const size_t size = FrameContentSize(frame);
  if (size == 0) return Corrupt("bad frame header");
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx{ZSTD_createDCtx()};
  out->resize(size);
  size_t got = ZSTD_decompressDCtx(dctx.get(), out->data(), size, frame.data(), frame.size());
  if (ZSTD_isError(got) || got != size) return Corrupt("zstd");
  return Status::Ok();
}

// Where each message of out->text starts (out->offsets, n + 1 entries); every line ends with
// '\n' and nothing follows the last.
Status IndexText(DecodedChunk* out) {
  const size_t n = out->n;
  out->offsets.resize(n + 1);
  out->offsets[0] = 0;
  const char* base = out->text.data();
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
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

// Parses the decompressed columns of a layout-1/2 payload held in `raw` (which must outlive
// `out`: its text, level names and fields point into it).
Status ParseColumns(std::string_view raw, DecodedChunk* out) {
  const size_t size = raw.size();
  Reader r(raw);
  uint8_t flags = 0;
  if (!raw.empty() && raw[0] == '\0') {
    std::string_view head;
    if (!r.Bytes(2, &head)) return Corrupt("layout");
    flags = static_cast<uint8_t>(head[1]);
    if (flags == 0 || (flags & ~(kFlagLevelNames | kFlagFields))) return Corrupt("layout flags");
  }
  uint64_t n, nw;
  if (!r.Varint(&n) || !r.Varint(&nw) || n > size || nw > kMaxChunkWriters)
    return Corrupt("header");
  out->n = n;
  if (!ReadWriters(r, nw, &out->writers)) return Corrupt("writers");
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
  return IndexText(out);
}

// A layout-3 payload of the blocks `ends` gives; with `filters`, a filter per block and (into
// *text_filter when given) the chunk's, else neither.
Result<std::string> EncodeBlocks(const LogLine* lines, size_t count, int zstd_level,
                                 const std::vector<size_t>& ends, std::string* text_filter,
                                 bool filters) {
  std::vector<std::string_view> writers;
  std::vector<uint8_t> writer_index;
  if (Status s = CollectWriters(lines, count, &writers, &writer_index); !s.ok()) return s;
  // The chunk keeps the first kMaxChunkLevelNames distinct names, as one layout-2 frame would.
  std::vector<std::string_view> names;
  for (size_t i = 0; i < count && names.size() < kMaxChunkLevelNames; ++i) {
    const std::string& name = lines[i].level_name;
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end())
      names.push_back(name);
  }
  std::vector<std::string> block_filters;
  if (filters) {
    BuildTextFilters(lines, count, ends, text_filter, &block_filters);
  } else if (text_filter) {
    text_filter->clear();
  }
  std::string out;
  out.push_back(static_cast<char>(kLayout3));
  out.push_back(static_cast<char>(filters ? kFlagBlockFilters : 0));
  PutVarint(&out, count);
  PutVarint(&out, writers.size());
  PutWriters(&out, writers);
  PutVarint(&out, ends.size());
  std::string frames;
  size_t begin = 0;
  for (size_t b = 0; b < ends.size(); ++b) {
    const size_t end = ends[b];
    auto raw = EncodeColumns(lines + begin, end - begin, &names);
    if (!raw.ok()) return raw.status();
    auto frame = Compress(*raw, zstd_level);
    if (!frame.ok()) return frame.status();
    PutVarint(&out, end - begin);
    PutVarint(&out, frame->size());
    if (filters) {
      PutVarint(&out, block_filters[b].size());
      out.append(block_filters[b]);
    }
    frames.append(*frame);
    begin = end;
  }
  out.append(frames);
  return out;
}

// Appends `count` lines of a block the caller left out (see DecodeChunk).
void AppendSkippedLines(size_t count, DecodedChunk* out) {
  out->timestamps.insert(out->timestamps.end(), count, 0);
  out->levels.insert(out->levels.end(), count, 0);
  out->sources.insert(out->sources.end(), count, 0);
  out->writer_index.insert(out->writer_index.end(), count, 0);
  if (!out->level_name_index.empty())
    out->level_name_index.insert(out->level_name_index.end(), count, 0);
  if (!out->fields.empty()) out->fields.insert(out->fields.end(), count, std::string_view());
  // Each an empty message: one '\n' apiece.
  uint32_t at = static_cast<uint32_t>(out->buffer.size());
  for (size_t i = 0; i < count; ++i) out->offsets.push_back(++at);
  out->buffer.append(count, '\n');
}

Status DecodeBlocks(std::string_view payload, DecodedChunk* out, const BlockTest& want) {
  Reader r(payload.substr(1));
  std::string_view flag_byte;
  if (!r.Bytes(1, &flag_byte)) return Corrupt("layout 3 flags");
  const auto flags = static_cast<uint8_t>(flag_byte[0]);
  if (flags & ~kFlagBlockFilters) return Corrupt("layout 3 flags");
  uint64_t n, nw, nb;
  if (!r.Varint(&n) || !r.Varint(&nw) || nw == 0 || nw > kMaxChunkWriters) return Corrupt("header");
  if (!ReadWriters(r, nw, &out->writers)) return Corrupt("writers");
  if (!r.Varint(&nb) || nb == 0 || nb > n || nb > payload.size()) return Corrupt("block count");
  struct Block {
    uint64_t lines = 0, frame_len = 0;
    std::string_view filter, frame;
    bool wanted = true;
  };
  std::vector<Block> blocks(nb);
  uint64_t lines = 0, frame_bytes = 0;
  for (Block& b : blocks) {
    if (!r.Varint(&b.lines) || !r.Varint(&b.frame_len) || b.lines == 0 ||
        b.frame_len > payload.size())
      return Corrupt("block table");
    if (flags & kFlagBlockFilters) {
      uint64_t len;
      if (!r.Varint(&len) || !r.Bytes(len, &b.filter)) return Corrupt("block filter");
    }
    lines += b.lines;
    frame_bytes += b.frame_len;
    if (lines > n || frame_bytes > payload.size()) return Corrupt("block table");
  }
  if (lines != n || r.Rest().size() != frame_bytes) return Corrupt("block table");
  Reader frames(r.Rest());
  size_t content = 0, wanted_content = 0;
  for (Block& b : blocks) {
    (void)frames.Bytes(b.frame_len, &b.frame);  // sizes checked above
    // A line takes at least 4 bytes of columns: a skipped block cannot claim more lines than
    // its frame could hold (no huge allocations for a hostile table). All blocks together
    // hold at most what one frame may (1 GiB), so offsets fit 32 bits.
    const size_t size = FrameContentSize(b.frame);
    content += size;
    if (b.lines > size / 4 || content > (size_t{1} << 30)) return Corrupt("block lines");
    b.wanted = !want || want(b.filter);
    if (b.wanted) wanted_content += size;
  }

  out->n = n;
  out->buffer.clear();
  out->timestamps.clear();
  out->levels.clear();
  out->sources.clear();
  out->writer_index.clear();
  out->level_names.clear();
  out->level_name_index.clear();
  out->fields.clear();
  out->block_buffers.clear();
  out->blocks_skipped = 0;
  // The text of the decoded blocks is at most their frames' content: one allocation, not a
  // doubling per block (a scan reuses its DecodedChunks, so this is mostly a no-op).
  out->buffer.reserve(wanted_content);
  out->offsets.assign(1, 0);
  out->offsets.reserve(n + 1);
  out->timestamps.reserve(n);
  out->levels.reserve(n);
  out->sources.reserve(n);
  out->writer_index.reserve(n);
  // A block's columns are parsed into `part` from `raw`; raw is kept (block_buffers) only when
  // level names or fields point into it.
  DecodedChunk part;
  std::unique_ptr<std::string> raw;
  size_t done = 0;  // lines appended so far
  for (const Block& b : blocks) {
    if (!b.wanted) {
      ++out->blocks_skipped;
      AppendSkippedLines(b.lines, out);
      done += b.lines;
      continue;
    }
    if (!raw) raw = std::make_unique<std::string>();
    if (Status s = Decompress(b.frame, raw.get()); !s.ok()) return s;
    if (Status s = ParseColumns(*raw, &part); !s.ok()) return s;
    if (part.n != b.lines) return Corrupt("block lines");
    uint8_t writer_map[kMaxChunkWriters];
    for (size_t k = 0; k < part.writers.size(); ++k) {
      size_t w = 0;
      while (w < out->writers.size() && out->writers[w] != part.writers[k]) ++w;
      if (w == out->writers.size()) return Corrupt("block writer");
      writer_map[k] = static_cast<uint8_t>(w);
    }
    out->timestamps.insert(out->timestamps.end(), part.timestamps.begin(), part.timestamps.end());
    out->levels.insert(out->levels.end(), part.levels.begin(), part.levels.end());
    out->sources.insert(out->sources.end(), part.sources.begin(), part.sources.end());
    for (uint8_t k : part.writer_index) out->writer_index.push_back(writer_map[k]);
    if (!part.level_names.empty()) {
      uint8_t name_map[kMaxChunkLevelNames + 1] = {0};
      for (size_t k = 0; k < part.level_names.size(); ++k) {
        size_t j = 0;
        while (j < out->level_names.size() && out->level_names[j] != part.level_names[k]) ++j;
        if (j == out->level_names.size()) {
          if (j == kMaxChunkLevelNames) return Corrupt("level names");
          out->level_names.push_back(part.level_names[k]);
        }
        name_map[k + 1] = static_cast<uint8_t>(j + 1);
      }
      if (out->level_name_index.empty()) out->level_name_index.assign(done, 0);
      for (uint8_t k : part.level_name_index) out->level_name_index.push_back(name_map[k]);
    } else if (!out->level_name_index.empty()) {
      out->level_name_index.insert(out->level_name_index.end(), b.lines, 0);
    }
    if (part.has_fields()) {
      if (out->fields.empty()) out->fields.assign(done, std::string_view());
      out->fields.insert(out->fields.end(), part.fields.begin(), part.fields.end());
    } else if (!out->fields.empty()) {
      out->fields.insert(out->fields.end(), b.lines, std::string_view());
    }
    // The block's line offsets, moved to where its text lands (ParseColumns found them).
    const auto base = static_cast<uint32_t>(out->buffer.size());
    for (size_t i = 1; i <= part.n; ++i) out->offsets.push_back(base + part.offsets[i]);
    out->buffer.append(part.text);
    if (!part.level_names.empty() || part.has_fields())
      out->block_buffers.push_back(std::move(raw));  // a new one for the next block
    done += b.lines;
  }
  out->text = out->buffer;
  // Built block by block above (no second pass over the text); a chunk's text is far below
  // 4 GiB (ingest and merge limits), so uint32 offsets hold.
  if (out->offsets.size() != n + 1 || out->offsets.back() != out->text.size())
    return Corrupt("text");
  return Status::Ok();
}

}  // namespace

Result<std::string> EncodeChunk(const LogLine* lines, size_t count, int zstd_level,
                                std::string* text_filter, FilterBuild build) {
  if (count == 0) return Status(Code::kInvalidValue, "a chunk holds at least one line");
  const bool filters = build == FilterBuild::kBuild && TextFiltersEnabled();
  std::vector<size_t> ends = ChunkBlockEnds(lines, count);
  if (ends.size() > 1) return EncodeBlocks(lines, count, zstd_level, ends, text_filter, filters);
  auto raw = EncodeColumns(lines, count, nullptr);
  if (!raw.ok()) return raw.status();
  if (text_filter) *text_filter = filters ? BuildTextFilter(lines, count) : std::string();
  return Compress(*raw, zstd_level);
}

Status DecodeChunk(std::string_view payload, DecodedChunk* out, const BlockTest& want) {
  if (!payload.empty() && static_cast<uint8_t>(payload[0]) == kLayout3)
    return DecodeBlocks(payload, out, want);
  out->block_buffers.clear();
  out->blocks_skipped = 0;
  if (Status s = Decompress(payload, &out->buffer); !s.ok()) return s;
  return ParseColumns(out->buffer, out);
}

}  // namespace wanllmdb
