#include "store/chunk_writer.h"

#include <algorithm>

#include "core/chunk_codec.h"
#include "core/text_filter.h"

namespace wanllmdb {

ChunkMeta MetaOf(const LogLine* lines, size_t n) {
  ChunkMeta m;
  for (size_t i = 0; i < n; ++i) {
    const LogLine& l = lines[i];
    m.ts_min = std::min(m.ts_min, l.timestamp_us);
    m.ts_max = std::max(m.ts_max, l.timestamp_us);
    m.level_mask |= 1u << static_cast<int>(l.level);
    m.source_mask |= 1u << static_cast<int>(l.source);
    m.level_counts[static_cast<int>(l.level)]++;
    m.source_counts[static_cast<int>(l.source)]++;
    m.raw_bytes += static_cast<int64_t>(l.message.size()) + 1;
  }
  return m;
}

Result<std::vector<ChunkPiece>> BuildChunks(const std::vector<LogLine>& lines, int zstd_level,
                                            ChunkLimits limits, FilterBuild filters) {
  std::vector<ChunkPiece> out;
  size_t start = 0, bytes = 0;
  // Distinct writers of the open piece; pieces rarely hold more than a few, a scan wins.
  std::vector<std::string_view> writers;
  auto close = [&](size_t end) -> Status {
    std::string filter;
    auto payload = EncodeChunk(lines.data() + start, end - start, zstd_level, &filter, filters);
    if (!payload.ok()) return payload.status();
    out.push_back({start, end, std::move(*payload), std::move(filter)});
    start = end;
    bytes = 0;
    writers.clear();
    return Status::Ok();
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& w = lines[i].writer;
    bool new_writer = std::find(writers.begin(), writers.end(), w) == writers.end();
    if (i > start &&
        (i - start >= limits.max_lines || bytes + lines[i].message.size() > limits.max_bytes ||
         (new_writer && writers.size() == kMaxChunkWriters))) {
      Status s = close(i);
      if (!s.ok()) return s;
      new_writer = true;
    }
    if (new_writer) writers.push_back(w);
    bytes += lines[i].message.size() + 1;
  }
  if (start < lines.size()) {
    Status s = close(lines.size());
    if (!s.ok()) return s;
  }
  return out;
}

std::string JoinCounts(const int64_t* v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s.push_back(',');
    s += std::to_string(v[i]);
  }
  return s;
}

}  // namespace wanllmdb
