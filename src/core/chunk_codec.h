// ChunkCodec: the lines of one chunk, column by column, compressed with zstd.
// The grammar is in doc/chunk_format.md; this file and that one change together.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_line.h"
#include "core/status.h"

namespace wanllmdb {

inline constexpr int kCodecZstdColumnsV1 = 1;
// A chunk holds at most this many distinct custom level names (one byte per line indexes them).
inline constexpr size_t kMaxChunkLevelNames = 255;
// The format indexes writers with one byte: a chunk holds at most this many distinct writers.
inline constexpr size_t kMaxChunkWriters = 256;
// Layout 3 cuts a chunk into blocks of at most this many lines / raw text bytes, each compressed
// on its own with its own text filter, so a search decodes the blocks that may match rather than
// the whole chunk (doc/chunk_format.md "Layout 3"). A chunk that fits one block stays layout 1/2.
inline constexpr size_t kChunkBlockLines = 128;
inline constexpr size_t kChunkBlockBytes = 32 * 1024;

// Where EncodeChunk cuts lines[0, count) into blocks: the end of each block, the last one
// `count`. One entry: the chunk is one block (layout 1 or 2). The one rule for the encoder and
// whoever else needs the blocks.
std::vector<size_t> ChunkBlockEnds(const LogLine* lines, size_t count);

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
  // Layout 2 only (empty otherwise): custom level names, and per line the index of its name
  // plus one (0: the canonical name); the fields of each line (empty view: none).
  std::vector<std::string_view> level_names;
  std::vector<uint8_t> level_name_index;
  std::vector<std::string_view> fields;
  // Layout 3: the decompressed blocks that level_names and fields point into (`buffer` then
  // holds the text column alone), and how many blocks the caller's BlockTest left out.
  std::vector<std::unique_ptr<std::string>> block_buffers;
  size_t blocks_skipped = 0;

  std::string_view message(size_t i) const {
    return text.substr(offsets[i], offsets[i + 1] - offsets[i] - 1);
  }
  std::string_view level_name(size_t i) const {
    if (level_name_index.empty() || level_name_index[i] == 0) return {};
    return level_names[level_name_index[i] - 1];
  }
  std::string_view line_fields(size_t i) const {
    return fields.empty() ? std::string_view() : fields[i];
  }
  bool has_fields() const { return !fields.empty(); }
  // Line i as a LogLine (line_number 0: the caller knows the chunk's first line).
  LogLine line(size_t i) const;
};

// Encodes `lines[0, count)` (line_number ignored: it is the chunk's key). `level` is zstd's.
// Lines with a level name or fields make a layout-2 payload; others the layout-1 payload that
// every earlier version wrote (doc/chunk_format.md); more lines than one block holds
// (ChunkBlockEnds) make a layout-3 payload of such blocks, each with a text filter unless text
// filters are switched off (core/text_filter.h). Fails with kInvalidValue when the lines hold
// more than kMaxChunkWriters writers (callers split before that: store/chunk_writer.h), more
// or count is 0. Past kMaxChunkLevelNames distinct level names (only a hostile writer gets there)
// further names are dropped: their lines keep their canonical level.
// Thread-safety: stateless functions; the zstd contexts are thread_local.
// With `text_filter`, also its chunk text filter (core/text_filter.h BuildTextFilter; "" when
// filters are off or skipped), computed in the same pass over the text as the block filters.
// FilterBuild::kSkip writes neither (a chunk without filters is always scanned): ingest skips
// them, because the merger re-encodes every chunk ingest writes and builds them then
// (store/merge_planner.h), so building them twice would only slow ingest down.
enum class FilterBuild { kBuild, kSkip };
Result<std::string> EncodeChunk(const LogLine* lines, size_t count, int zstd_level,
                                std::string* text_filter = nullptr,
                                FilterBuild filters = FilterBuild::kBuild);

// Whether to decode a layout-3 block, given its text filter ("" when it has none).
using BlockTest = std::function<bool(std::string_view block_filter)>;

// Decodes a payload of any layout. With `want` (layout 3 only; ignored otherwise), blocks it
// returns false for are not decompressed: their lines read as empty messages ("") at time 0,
// level DEBUG, source stdout, writer 0, without level name or fields. Only a reader that knows
// no line of such a block can match (its text filter rules the needle out, and an empty line
// cannot match) may pass one: Scan does (store/query_engine.cpp). Outcomes: OK, or kInternal
// "corrupt chunk: ..." for any payload EncodeChunk would not have written.
Status DecodeChunk(std::string_view payload, DecodedChunk* out, const BlockTest& want = nullptr);

}  // namespace wanllmdb
