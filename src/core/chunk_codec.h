// ChunkCodec: the lines of one chunk, column by column, compressed with zstd.
// The grammar is in doc/chunk_format.md; this file and that one change together.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_line.h"
#include "core/status.h"

namespace wanllmdb {

inline constexpr int kCodecZstdColumnsV1 = 1;
// The format indexes writers with one byte: a chunk holds at most this many distinct writers.
inline constexpr size_t kMaxChunkWriters = 256;

// Decoded columns of a chunk, pointing into one owned buffer. Line i's message is
// text.substr(offsets[i], offsets[i+1] - offsets[i] - 1) (each message ends with '\n').
// Thread-safety: a value type; const access from many threads is safe.
struct DecodedChunk {
  std::string buffer;  // the decompressed payload; `text` points into it
  size_t n = 0;
  std::vector<int64_t> timestamps;
  std::vector<uint8_t> levels;
  std::vector<uint8_t> sources;
  std::vector<uint8_t> writer_index;  // index into writers
  std::vector<std::string> writers;
  std::string_view text;
  std::vector<uint32_t> offsets;  // n + 1 entries

  std::string_view message(size_t i) const {
    return text.substr(offsets[i], offsets[i + 1] - offsets[i] - 1);
  }
};

// Encodes `lines[0, count)` (line_number ignored: it is the chunk's key). `level` is zstd's.
// Fails with kInvalidValue when the lines hold more than kMaxChunkWriters writers (callers
// split before that: store/chunk_writer.h) or count is 0.
// Thread-safety: stateless functions; the zstd contexts are thread_local.
Result<std::string> EncodeChunk(const LogLine* lines, size_t count, int zstd_level);
Status DecodeChunk(std::string_view payload, DecodedChunk* out);

}  // namespace wanllmdb
