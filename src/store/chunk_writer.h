// ChunkWriter: how lines become chunk rows, the same for every backend (DESIGN §3): pieces cut at
// the ingest and merge limits and at the format's writer limit, each piece's row metadata
// (time range, level/source masks, level counts, raw bytes), and the text form of count columns.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/chunk_codec.h"
#include "core/log_line.h"
#include "core/status.h"

namespace wanllmdb {

// Chunk size goals: ingest cuts a batch at these; the merger packs neighbours up to its own.
inline constexpr size_t kIngestChunkLines = 1000;
inline constexpr size_t kIngestChunkBytes = 256 * 1024;
inline constexpr size_t kMergeChunkLines = 1000;
inline constexpr size_t kMergeChunkBytes = 128 * 1024;

// What one chunk row holds besides its key and payload.
struct ChunkMeta {
  int64_t ts_min = INT64_MAX, ts_max = INT64_MIN;
  uint32_t level_mask = 0, source_mask = 0;
  std::array<int64_t, kLevelCount> level_counts{};
  std::array<int64_t, kSourceCount> source_counts{};  // schema 7: retention recomputes summaries
  int64_t raw_bytes = 0;
};
ChunkMeta MetaOf(const LogLine* lines, size_t n);

// One encoded piece: lines [begin, end) of the input.
struct ChunkPiece {
  size_t begin = 0, end = 0;
  std::string payload;
  std::string text_filter;  // core/text_filter.h; "" = none (always scanned)
};

struct ChunkLimits {
  size_t max_lines = kIngestChunkLines;
  size_t max_bytes = kIngestChunkBytes;
};

// Splits `lines` into pieces within `limits` and the format's writer limit, and encodes each,
// with text filters or without (ingest: core/chunk_codec.h EncodeChunk says why).
// Thread-safety: a pure function.
Result<std::vector<ChunkPiece>> BuildChunks(const std::vector<LogLine>& lines, int zstd_level,
                                            ChunkLimits limits = {},
                                            FilterBuild filters = FilterBuild::kBuild);

// Count columns are stored as text "a,b,c,d,e" in both backends.
std::string JoinCounts(const int64_t* v, int n);
template <size_t N>
void ParseCounts(std::string_view s, std::array<int64_t, N>* out) {
  out->fill(0);
  size_t i = 0;
  for (size_t k = 0; k < N && i <= s.size(); ++k) {
    size_t comma = s.find(',', i);
    if (comma == std::string_view::npos) comma = s.size();
    int64_t v = 0;
    for (size_t j = i; j < comma; ++j) {
      if (s[j] < '0' || s[j] > '9') break;
      v = v * 10 + (s[j] - '0');
    }
    (*out)[k] = v;
    i = comma + 1;
  }
}

}  // namespace wanllmdb
